-- 006_outbox_retry.sql — the outbox never drops an event (issue 15 item 14).
--
-- Until now `agora-worker outbox` counted failed republishes in
-- worker_outbox_attempts and, after worker_max_deliver of them, dead-lettered
-- the event and marked it published: a committed write whose event was lost.
-- Now a failed publish only defers the event, with a bounded exponential
-- backoff, and the state lives with the event itself so that every cron run
-- (and any host) respects it: attempts, the time of the next try, and why
-- the last one failed. Notifications (ag_notify) get the same three columns.
-- The MongoDB backend keeps the same fields in its outbox documents.

ALTER TABLE content_outbox
    ADD COLUMN attempts    integer NOT NULL DEFAULT 0,
    ADD COLUMN next_try_at timestamptz,
    ADD COLUMN last_error  text;

ALTER TABLE notifications
    ADD COLUMN publish_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_try_at      timestamptz,
    ADD COLUMN last_error       text;

-- the attempts counted so far move to their events
UPDATE content_outbox o SET attempts = a.attempts, last_error = a.last_error
FROM worker_outbox_attempts a WHERE a.msg_id = o.msg_id;

-- events the old worker gave up on go back to the outbox (the dead-letter
-- rows stay, as history): they are retried with backoff like any other and
-- `agora-admin outbox` shows them until they are delivered
UPDATE content_outbox o SET published_at = NULL, attempts = greatest(o.attempts, d.deliveries),
    last_error = coalesce(o.last_error, d.reason), next_try_at = now()
FROM worker_deadletters d WHERE d.job = 'outbox' AND d.ref = o.msg_id;

DROP TABLE worker_outbox_attempts;
