-- 001_core.sql — the relational core behind the REST API (CONTRACT §2, §5):
-- users, channels, memberships, follows, notifications.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL,
    password_hash text NOT NULL,
    display_name  text,
    bio           text,
    avatar_url    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_rule CHECK (username ~ '^[a-z0-9_]{3,32}$'),
    CONSTRAINT users_display_name_len CHECK (char_length(display_name) <= 64),
    CONSTRAINT users_bio_len CHECK (char_length(bio) <= 1000),
    CONSTRAINT users_avatar_url_len CHECK (char_length(avatar_url) <= 2048)
);
-- GET /users?q= : username prefix and display-name substring, case-insensitive
CREATE INDEX users_username_prefix ON users (username text_pattern_ops);
CREATE INDEX users_display_name_trgm ON users USING gin (lower(display_name) gin_trgm_ops);

CREATE TABLE channels (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL,
    topic        text,
    visibility   text NOT NULL,
    owner_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    member_count integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channels_visibility CHECK (visibility IN ('public', 'private')),
    CONSTRAINT channels_name_len CHECK (char_length(name) BETWEEN 1 AND 80),
    CONSTRAINT channels_topic_len CHECK (char_length(topic) <= 500)
);
CREATE INDEX channels_public ON channels (id) WHERE visibility = 'public';

CREATE TABLE memberships (
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL DEFAULT 'member',
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, user_id),
    CONSTRAINT memberships_role CHECK (role IN ('owner', 'admin', 'member'))
);
-- a user's channels (GET /channels?member=me, subscription rebuilds)
CREATE INDEX memberships_by_user ON memberships (user_id, channel_id);

-- member_count follows memberships in the same transaction
CREATE FUNCTION memberships_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE channels SET member_count = member_count + 1 WHERE id = NEW.channel_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE channels SET member_count = member_count - 1 WHERE id = OLD.channel_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER memberships_count AFTER INSERT OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_count();

CREATE TABLE follows (
    follower_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_by_followee ON follows (followee_id, follower_id);

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    actor_id   bigint,
    channel_id bigint,
    post_id    text,
    -- workers may process an event twice; the key makes the second insert a no-op
    dedupe_key text,
    read       boolean NOT NULL DEFAULT false,
    -- set once JetStream acknowledged the event; the outbox worker retries the rest
    published  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notifications_dedupe UNIQUE (dedupe_key),
    CONSTRAINT notifications_kind CHECK (kind IN ('new_follower', 'mention', 'comment', 'reply'))
);
CREATE INDEX notifications_by_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unpublished ON notifications (id) WHERE NOT published;
