-- 009_social.sql — reactions, edits and deletes everywhere, attachments and
-- avatars (issue 17, CONTRACT §9). Numbered 009 so that the migrations of
-- the issues developed beside this one (007, 008) keep their own numbers.
--
-- Content side (the PostgreSQL backend of lib/content; the MongoDB backend
-- keeps the same fields in its documents):
--   - comments, replies and direct messages gain edited_at, as posts have;
--   - reactions: one row per (target, emoji, user), so that adding twice is
--     a no-op. post_id and comment_id name the thread a row hangs on, so
--     that deleting a post (or a comment) takes the reactions of everything
--     below it in one indexed DELETE; a DM's reactions have neither.
ALTER TABLE comments ADD COLUMN edited_at timestamptz;
ALTER TABLE replies ADD COLUMN edited_at timestamptz;
ALTER TABLE direct_messages ADD COLUMN edited_at timestamptz;

CREATE TABLE reactions (
    target_id  text COLLATE "C" NOT NULL,
    emoji      text NOT NULL,
    user_id    bigint NOT NULL,
    post_id    text COLLATE "C",
    comment_id text COLLATE "C",
    created_at timestamptz NOT NULL,
    PRIMARY KEY (target_id, emoji, user_id),
    CONSTRAINT reactions_emoji_len CHECK (octet_length(emoji) BETWEEN 1 AND 64)
);
CREATE INDEX reactions_by_post ON reactions (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX reactions_by_comment ON reactions (comment_id) WHERE comment_id IS NOT NULL;

-- Relational side (lib/model/media.c): uploaded files. The bytes live under
-- the data directory by content hash (sha256), so the same picture uploaded
-- twice is stored once; a row is one upload by one user. A row is free until
-- a post or DM claims it (createPost/sendDirectMessage with attachmentIds);
-- then it carries who may read it: the channel's readers, or the DM's two
-- users. Reads are authorized against these columns alone, whichever content
-- backend holds the message.
CREATE TABLE attachments (
    id           text COLLATE "C" PRIMARY KEY,
    owner_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256       text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    width        integer,
    height       integer,
    thumb_sha256 text,
    name         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    message_id   text COLLATE "C",     -- the post or DM that claimed it
    channel_id   bigint,               -- a post's channel
    dm_from      bigint,               -- a DM's two users
    dm_to        bigint,
    CONSTRAINT attachments_id_oid CHECK (id ~ '^[0-9a-f]{24}$'),
    CONSTRAINT attachments_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT attachments_size CHECK (size >= 0)
);
CREATE INDEX attachments_by_message ON attachments (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX attachments_by_owner ON attachments (owner_id, created_at);

-- Resumable uploads (tus 1.0): the bytes so far are a file under the data
-- directory (uploads/<id>); offset is what that file holds. An upload that
-- reached its length becomes an attachment (attachment_id) and its file goes.
CREATE TABLE uploads (
    id            text COLLATE "C" PRIMARY KEY,
    owner_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    length        bigint NOT NULL,
    "offset"      bigint NOT NULL DEFAULT 0,
    name          text,
    attachment_id text COLLATE "C",
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uploads_id_oid CHECK (id ~ '^[0-9a-f]{24}$'),
    CONSTRAINT uploads_offset CHECK ("offset" BETWEEN 0 AND length)
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, created_at);
