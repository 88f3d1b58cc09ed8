-- 005_owner_succession.sql — channels whose owner's account was deleted
-- before succession existed (issue 15 item 8). Until then DELETE /users/{id}
-- left such a channel with owner_id NULL and no 'owner' membership: nobody
-- could hand it on, and only admins could still manage it. Apply the rule
-- DELETE /users/{id} follows now (CONTRACT §9, lib/model/accounts.c): the
-- longest-standing admin, else the longest-standing member, becomes the
-- owner; a channel with no member left is deleted.

WITH heir AS (
    SELECT DISTINCT ON (m.channel_id) m.channel_id, m.user_id
    FROM memberships m JOIN channels c ON c.id = m.channel_id
    WHERE c.owner_id IS NULL
    ORDER BY m.channel_id, m.role = 'admin' DESC, m.joined_at, m.user_id
), promoted AS (
    UPDATE memberships m SET role = 'owner' FROM heir h
    WHERE m.channel_id = h.channel_id AND m.user_id = h.user_id
)
UPDATE channels c SET owner_id = h.user_id, updated_at = now()
FROM heir h WHERE c.id = h.channel_id;

DELETE FROM channels c
WHERE c.owner_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id);
