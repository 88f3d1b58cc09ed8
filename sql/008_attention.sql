-- 008_attention.sql — what unread counts, notification levels and blocks
-- need (CONTRACT §9, issue 16). lib/model/attention.c reads and writes it.
--
-- attention_posts: every post of a channel as the unread counts see it. A
-- user's read offset is a CHANNEL_STREAM sequence (ws_read_offsets), so each
-- post carries the sequence of its `created` event. The GraphQL write path
-- inserts the row right after the post is stored (seq NULL: not in the
-- stream yet) and sets seq from JetStream's ack; the fanout job sets it from
-- the event itself when the writer could not (the outbox published it
-- later), so a row's seq is the stream's. An edit rewrites `mentioned`, a
-- deletion removes the row, a deleted channel takes its rows with it.
-- Posts older than this migration have no row: they are never unread.
CREATE TABLE attention_posts (
    post_id    text COLLATE "C" PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    author_id  bigint NOT NULL,
    seq        bigint,                      -- NULL until the created event is in the stream
    mentioned  bigint[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attention_posts_seq CHECK (seq > 0)
);
-- unread of one channel: the rows after an offset (index-only for the count)
CREATE INDEX attention_posts_by_seq ON attention_posts (channel_id, seq)
    INCLUDE (author_id, created_at);
-- posts not in the stream yet: few, and counted as unread by everyone else
CREATE INDEX attention_posts_unsequenced ON attention_posts (channel_id) WHERE seq IS NULL;

-- Per member and channel: which notifications the channel makes for them.
-- No row means 'all'. Kept when the member leaves, so a rejoin keeps it.
CREATE TABLE channel_notify_levels (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    level      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel_id),
    CONSTRAINT channel_notify_levels_level CHECK (level IN ('all', 'mentions', 'none'))
);
CREATE INDEX channel_notify_levels_by_channel ON channel_notify_levels (channel_id);

-- blocker_id has blocked blocked_id: no DM between them, and nothing the
-- blocked user does makes a notification (or a mentions count) for the blocker.
CREATE TABLE user_blocks (
    blocker_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CONSTRAINT user_blocks_not_self CHECK (blocker_id <> blocked_id)
);
-- the user's cascade delete, and "who blocked me" for the DM check
CREATE INDEX user_blocks_by_blocked ON user_blocks (blocked_id, blocker_id);
