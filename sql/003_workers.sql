-- 003_workers.sql — what the cron jobs of agora-worker (CONTRACT §7) keep:
-- the full-text index of posts behind Query.search, the per-channel daily
-- activity behind GET /channels/{id}/stats, and the dead letters.
--
-- The search index lives in PostgreSQL whichever content backend holds the
-- posts: users, channels and memberships are here too, so "only channels the
-- caller may read" is one join, and MongoDB needs no text index of its own.
-- The index job reads each post from the content store and writes its
-- tsvector here; results are fetched back through the content store, which
-- drops a post deleted since it was indexed.

CREATE TABLE post_search (
    post_id    text COLLATE "C" PRIMARY KEY,
    channel_id bigint NOT NULL,
    author_id  bigint NOT NULL,
    created_at timestamptz NOT NULL,          -- recency, the tie-break after rank
    tsv        tsvector NOT NULL
);
CREATE INDEX post_search_tsv ON post_search USING gin (tsv);
CREATE INDEX post_search_by_channel ON post_search (channel_id);

-- One row per post, comment or reply ever seen by the analytics job. The
-- document id as key makes a redelivered event a no-op (idempotent), and
-- the daily numbers are a GROUP BY over at most 90 days of one channel.
CREATE TABLE channel_activity (
    doc_id     text COLLATE "C" PRIMARY KEY,
    channel_id bigint NOT NULL,
    day        date NOT NULL,                 -- UTC day of the document's created_at
    kind       text NOT NULL,
    author_id  bigint NOT NULL,
    CONSTRAINT channel_activity_kind CHECK (kind IN ('post', 'comment', 'reply'))
);
CREATE INDEX channel_activity_by_day ON channel_activity (channel_id, day);

-- Messages a job gave up on (unparseable, or failing worker_max_deliver
-- times). They are also published on deadletter.<job>; this table keeps
-- them after the stream's retention, for an operator to inspect or replay.
-- ref is the stream sequence for the stream jobs, the msg_id for outbox.
CREATE TABLE worker_deadletters (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job        text NOT NULL,
    ref        text NOT NULL,
    subject    text NOT NULL,
    deliveries integer NOT NULL,
    reason     text NOT NULL,
    payload    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT worker_deadletters_once UNIQUE (job, ref)
);

-- Failed republish attempts of content outbox events while NATS itself was
-- up (e.g. a subject no stream captures): after worker_max_deliver of them
-- the event is dead-lettered instead of blocking the outbox forever.
CREATE TABLE worker_outbox_attempts (
    msg_id     text PRIMARY KEY,
    attempts   integer NOT NULL,
    last_error text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
