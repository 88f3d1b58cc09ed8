'use strict';
// bench/peers/rest-fastify.js — the REST peer: GET /api/v1/users/:id and
// GET /api/v1/channels?member=me with the same HS256 JWT check and the same
// SQL as fcgi/routes/users.c and channels.c, on the same PostgreSQL.
// env: PORT, WORKERS (1 = one process), PGHOST PGPORT PGUSER PGDATABASE, JWT_KEY_FILE
const { verifyBearer, pool, run } = require('./common');

const TS = (c) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const USER_SQL = `SELECT u.id, u.username, u.display_name, u.bio, u.avatar_url, ${TS('u.created_at')} AS created_at
                  FROM users u WHERE u.id = $1::bigint`;
const CHANNELS_SQL = `SELECT c.id, c.name, c.topic, c.visibility, c.owner_id, c.member_count,
                      ${TS('c.created_at')} AS created_at, m.role AS my_role FROM channels c
                      LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $3::bigint
                      WHERE c.id > $1::bigint AND (m.user_id IS NOT NULL OR
                      (NOT $4::bool AND c.visibility = 'public')) ORDER BY c.id LIMIT $2::int`;

function fail(reply, status, code, message) {
  return reply.code(status).send({ error: { code, message } });
}

run(async () => {
  const db = pool();
  const app = require('fastify')({ logger: false });
  app.addHook('onRequest', async (req, reply) => {
    const uid = verifyBearer(req.headers.authorization);
    if (!uid) return fail(reply, 401, 'unauthorized', 'invalid or expired token');
    req.uid = uid;
  });
  app.get('/api/v1/users/:id', async (req, reply) => {
    if (!/^[1-9][0-9]{0,18}$/.test(req.params.id)) return fail(reply, 400, 'bad_request', 'bad id');
    const r = await db.query({ name: 'user', text: USER_SQL, values: [req.params.id] });
    if (r.rows.length === 0) return fail(reply, 404, 'not_found', 'no user ' + req.params.id);
    const u = r.rows[0];
    return { id: u.id, username: u.username, displayName: u.display_name, bio: u.bio,
             avatarUrl: u.avatar_url, createdAt: u.created_at };
  });
  app.get('/api/v1/channels', async (req, reply) => {
    const limit = Math.min(+(req.query.limit || 20), 100);
    const after = req.query.after || '0';
    const member = req.query.member === 'me';
    const r = await db.query({ name: 'channels', text: CHANNELS_SQL,
                               values: [after, limit + 1, req.uid, member] });
    const items = r.rows.slice(0, limit).map((c) => ({
      id: c.id, name: c.name, topic: c.topic, visibility: c.visibility, ownerId: c.owner_id,
      createdAt: c.created_at, memberCount: c.member_count, myRole: c.my_role }));
    return { items, next: r.rows.length > limit ? items[items.length - 1].id : null };
  });
  await app.listen({ port: +process.env.PORT, host: '127.0.0.1' });
});
