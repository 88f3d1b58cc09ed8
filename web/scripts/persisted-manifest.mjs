// web/scripts/persisted-manifest.mjs — the trusted documents' manifest of the
// web client: every operation of src/queries.js (where every document the
// client sends lives) exactly as Apollo Client sends it, named by the SHA-256
// of that text. The text is taken from Apollo Client itself (a link that
// records what would go on the wire, with the cache's document transforms:
// __typename added, fragments appended), so the hashes match what the server
// computes. The format is Apollo's (generate-persisted-query-manifest), which
// agora.fcgi reads with graphql_trusted_documents = <this file>.
//
// usage: node scripts/persisted-manifest.mjs [OUT]   (default dist/persisted-query-manifest.json)
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Apollo Client 3 is CommonJS for Node; src/queries.js is an ES module for
// Vite that imports it. Its documents are read by evaluating its text with
// Apollo's own gql (the only import it has).
const require = createRequire(import.meta.url);
const { ApolloClient, ApolloLink, InMemoryCache, Observable, gql } = require('@apollo/client/core');
const { print } = require('graphql');
const here = dirname(fileURLToPath(import.meta.url));
const source = readFileSync(resolve(here, '..', 'src', 'queries.js'), 'utf8')
  .replace(/^import .*$/gm, '')
  .replace(/^export const (\w+) =/gm, 'const $1 = exports.$1 =');
const documents = {};
new Function('gql', 'exports', source)(gql, documents);

const out = resolve(process.argv[2] || resolve(here, '..', 'dist', 'persisted-query-manifest.json'));

const sent = [];
const record = new ApolloLink((operation) => {
  sent.push({ name: operation.operationName, body: print(operation.query) });
  return new Observable((o) => { o.next({ data: null }); o.complete(); });
});
const client = new ApolloClient({ link: record, cache: new InMemoryCache() });

// an export is a document, or an object of documents (e.g. REACTIONS_OF by type)
const all = Object.values(documents).flatMap((d) => (d && d.kind === 'Document' ? [d] : Object.values(d || {})));
for (const doc of all) {
  if (!doc || doc.kind !== 'Document') continue;
  const op = doc.definitions.find((d) => d.kind === 'OperationDefinition');
  if (!op) continue; // a fragment: part of the operations that spread it
  const run = op.operation === 'mutation'
    ? client.mutate({ mutation: doc, fetchPolicy: 'no-cache' })
    : client.query({ query: doc, fetchPolicy: 'no-cache' });
  await run.catch(() => {}); // the recorded text is all that matters
}
const operations = sent.map(({ name, body }) => ({
  id: createHash('sha256').update(body).digest('hex'),
  name,
  type: /^\s*mutation\b/.test(body) ? 'mutation' : 'query',
  body,
}));
operations.sort((a, b) => a.name.localeCompare(b.name));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }, null, 2) + '\n');
console.log(`${out}: ${operations.length} operations`);
