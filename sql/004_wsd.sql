-- 004_wsd.sql — what agora-wsd keeps beside Redis (CONTRACT §4, issue 5).
--
-- A user's read offset per channel (the highest CHANNEL_STREAM sequence the
-- client said it has read). Redis holds lastRead:user:<u>:channel:<c> for the
-- hot path; this table is the copy that survives losing Redis, so that a
-- reconnect after a Redis flush still replays what was missed instead of
-- silently starting live. Written by agora-wsd's worker threads only, and
-- only ever forward (GREATEST in the upsert).
CREATE TABLE ws_read_offsets (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel_id),
    CONSTRAINT ws_read_offsets_seq CHECK (seq > 0)
);
-- the channel's cascade delete looks rows up by channel
CREATE INDEX ws_read_offsets_by_channel ON ws_read_offsets (channel_id);
