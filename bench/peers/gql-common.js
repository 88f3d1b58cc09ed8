'use strict';
// bench/peers/gql-common.js — the resolvers both GraphQL peers share. The
// schema is Agora's own SDL (GET /graphql/schema.graphql, saved by the
// benchmark to SCHEMA_FILE); the reads are the SQL of lib/model and
// lib/content/content_pg.c, on the same PostgreSQL. Only the fields the
// benchmark asks for are implemented; the rest resolve to null.
const fs = require('node:fs');
const { GraphQLError } = require('graphql');
const { verifyBearer, rfc3339 } = require('./common');

const SDL = fs.readFileSync(process.env.SCHEMA_FILE, 'utf8');

// content_ms() written out, as lib/content/content_pg.c does (the function is not inlined)
const POST_COLS = `id, channel_id, author_id, doc->>'body' AS body,
                   (extract(epoch FROM created_at) * 1000)::bigint AS created_ms,
                   (extract(epoch FROM edited_at) * 1000)::bigint AS edited_ms, comment_count`;
const SQL = {
  users: 'SELECT id, username, display_name FROM users WHERE id = ANY($1::bigint[])',
  access: `SELECT c.visibility = 'public' AS public, m.role FROM channels c
           LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $2::bigint WHERE c.id = $1::bigint`,
  post: `SELECT ${POST_COLS} FROM posts WHERE id = $1`,
  page: `SELECT ${POST_COLS} FROM posts WHERE channel_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
  pageAfter: `SELECT ${POST_COLS} FROM posts WHERE channel_id = $1 AND (created_at, id) < (content_ts($3), $4)
              ORDER BY created_at DESC, id DESC LIMIT $2`,
};

function err(message, code) {
  return new GraphQLError(message, { extensions: { code } });
}

const userJson = (u) => ({ id: String(u.id), username: u.username, displayName: u.display_name });
const postJson = (p) => ({
  id: p.id, channelId: String(p.channel_id), authorId: String(p.author_id), body: p.body,
  createdAt: rfc3339(p.created_ms), editedAt: rfc3339(p.edited_ms), commentCount: p.comment_count,
  _ms: p.created_ms,
});
const cursor = (p) => Buffer.from(`${p._ms}:${p.id}`).toString('base64url');

// Authenticate one request: the user id, or throws (401). Like identify() in
// fcgi/routes/graphql.c: a valid token whose user still exists.
async function authenticate(db, header) {
  if (!header) return 0;
  const uid = verifyBearer(header);
  if (!uid) throw Object.assign(new Error('invalid or expired token'), { status: 401 });
  const r = await db.query({ name: 'users', text: SQL.users, values: [[uid]] });
  if (r.rows.length === 0) throw Object.assign(new Error('the token\'s user no longer exists'), { status: 401 });
  return uid;
}

async function canRead(db, uid, channelId) {
  const r = await db.query({ name: 'access', text: SQL.access, values: [channelId, uid] });
  if (r.rows.length === 0) throw err('no such channel', 'forbidden');
  if (!r.rows[0].public && r.rows[0].role == null) throw err('you are not a member of this private channel', 'forbidden');
}

function needUser(ctx) {
  if (!ctx.uid) throw err('sign in: send Authorization: Bearer <token>', 'unauthenticated');
}

// Authors of a page in one query (the batching Agora does in gql_f_author_prepare)
async function loadUsers(db, ids) {
  const uniq = [...new Set(ids)];
  const r = await db.query({ name: 'users', text: SQL.users, values: [uniq] });
  const by = new Map(r.rows.map((u) => [String(u.id), userJson(u)]));
  return ids.map((id) => by.get(String(id)) || null);
}

function queryResolvers(db) {
  return {
    me: async (_, __, ctx) => {
      if (!ctx.uid) return null;
      return (await loadUsers(db, [ctx.uid]))[0];
    },
    user: async (_, { id }, ctx) => {
      needUser(ctx);
      if (!/^[1-9][0-9]{0,18}$/.test(id)) return null;
      return (await loadUsers(db, [id]))[0];
    },
    post: async (_, { id }, ctx) => {
      needUser(ctx);
      if (!/^[0-9a-f]{24}$/.test(id)) return null;
      const r = await db.query({ name: 'post', text: SQL.post, values: [id] });
      if (r.rows.length === 0) return null;
      await canRead(db, ctx.uid, r.rows[0].channel_id);
      return postJson(r.rows[0]);
    },
    channelPosts: async (_, { channelId, first, after }, ctx) => {
      needUser(ctx);
      if (first < 0) throw err('first must not be negative', 'bad_request');
      first = Math.min(first, 100);
      if (!/^[1-9][0-9]{0,18}$/.test(channelId)) throw err('no such channel', 'forbidden');
      await canRead(db, ctx.uid, channelId);
      let r;
      if (after) {
        const [ms, id] = Buffer.from(after, 'base64url').toString().split(':');
        r = await db.query({ name: 'pageAfter', text: SQL.pageAfter, values: [channelId, first + 1, ms, id] });
      } else {
        r = await db.query({ name: 'page', text: SQL.page, values: [channelId, first + 1] });
      }
      const nodes = r.rows.slice(0, first).map(postJson);
      const edges = nodes.map((n) => ({ cursor: cursor(n), node: n }));
      return { edges, pageInfo: { hasNextPage: r.rows.length > first,
                                  endCursor: edges.length ? edges[edges.length - 1].cursor : null } };
    },
  };
}

module.exports = { SDL, SQL, authenticate, queryResolvers, loadUsers, err };
