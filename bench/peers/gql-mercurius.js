'use strict';
// bench/peers/gql-mercurius.js — GraphQL peer 2: Mercurius on Fastify with
// graphql-jit (jit: 1 compiles a query on its first use) and Mercurius's own
// loaders batching the authors of a page.
// env: PORT, WORKERS, PG*, JWT_KEY_FILE, SCHEMA_FILE
const { pool, run } = require('./common');
const { SDL, authenticate, queryResolvers, loadUsers } = require('./gql-common');

run(async () => {
  const db = pool();
  const app = require('fastify')({ logger: false });
  app.addHook('preHandler', async (req, reply) => {
    try {
      req.uid = await authenticate(db, req.headers.authorization);
    } catch (e) {
      return reply.code(e.status || 503).send({ errors: [{ message: e.message }] });
    }
  });
  app.register(require('mercurius'), {
    schema: SDL,
    resolvers: { Query: queryResolvers(db) },
    loaders: { Post: { author: async (queries) => loadUsers(db, queries.map((q) => q.obj.authorId)) } },
    context: (req) => ({ uid: req.uid }),
    jit: 1,
    path: '/graphql',
  });
  await app.listen({ port: +process.env.PORT, host: '127.0.0.1' });
});
