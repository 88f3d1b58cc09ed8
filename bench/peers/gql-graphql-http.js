'use strict';
// bench/peers/gql-graphql-http.js — GraphQL peer 1: graphql-js (the reference
// implementation) served by graphql-http on node:http. Authors are batched
// per request with a small loader, as Agora batches them.
// env: PORT, WORKERS, PG*, JWT_KEY_FILE, SCHEMA_FILE
const http = require('node:http');
const { buildSchema } = require('graphql');
const { createHandler } = require('graphql-http/lib/use/http');
const { pool, run } = require('./common');
const { SDL, authenticate, queryResolvers, loadUsers } = require('./gql-common');

// One loader per request: author lookups of one tick become one query.
function userLoader(db) {
  let queue = null;
  return (id) => new Promise((resolve, reject) => {
    if (queue === null) {
      queue = [];
      process.nextTick(() => {
        const q = queue; queue = null;
        loadUsers(db, q.map((e) => e.id)).then(
          (us) => q.forEach((e, i) => e.resolve(us[i])), (e) => q.forEach((x) => x.reject(e)));
      });
    }
    queue.push({ id, resolve, reject });
  });
}

run(async () => {
  const db = pool();
  const schema = buildSchema(SDL);
  const q = queryResolvers(db);
  for (const [name, fn] of Object.entries(q)) schema.getQueryType().getFields()[name].resolve = (s, a, c) => fn(s, a, c);
  schema.getType('Post').getFields().author.resolve = (p, _, ctx) => ctx.loadUser(p.authorId);
  const handler = createHandler({
    schema,
    context: (req) => req.raw.agoraCtx,
  });
  http.createServer(async (req, res) => {
    if (!req.url.startsWith('/graphql')) { res.writeHead(404).end(); return; }
    try {
      const uid = await authenticate(db, req.headers.authorization);
      req.agoraCtx = { uid, loadUser: userLoader(db) };
    } catch (e) {
      res.writeHead(e.status || 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: e.message }] }));
      return;
    }
    handler(req, res);
  }).listen(+process.env.PORT, '127.0.0.1');
});
