// tests/integration/js/apollo_trusted.cjs — Apollo Client (the web client's
// copy) running two of the web client's own documents (web/src/queries.js)
// against a server in trusted-documents mode, over plain HttpLink: they run
// only if the build's manifest holds exactly the text Apollo sends.
// usage: node apollo_trusted.cjs BASE_URL WEB_DIR TOKEN CHANNEL_ID; prints JSON
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [base, web, token, channelId] = process.argv.slice(2);
const req = createRequire(path.join(web, 'package.json'));
const { ApolloClient, HttpLink, InMemoryCache, gql } = req('@apollo/client/core');

// web/src/queries.js is an ES module for Vite; its only import is gql
const source = fs.readFileSync(path.join(web, 'src', 'queries.js'), 'utf8')
  .replace(/^import .*$/gm, '')
  .replace(/^export const (\w+) =/gm, 'const $1 = exports.$1 =');
const Q = {};
new Function('gql', 'exports', source)(gql, Q);

async function main() {
  const client = new ApolloClient({
    link: new HttpLink({ uri: base + '/graphql', fetch, headers: { Authorization: 'Bearer ' + token } }),
    cache: new InMemoryCache(),
  });
  const out = {};
  const m = await client.mutate({ mutation: Q.CREATE_POST, variables: { channelId, body: 'trusted' } });
  out.created = m.data.createPost.body;
  const q = await client.query({ query: Q.CHANNEL_POSTS, variables: { channelId, first: 5 } });
  out.bodies = q.data.channelPosts.edges.map((e) => e.node.body);
  try {
    await client.query({ query: gql`query NotInTheManifest { me { id } }` });
    out.unknown = 'ran';
  } catch (e) {
    const r = e.networkError && e.networkError.result;
    out.unknown = (r && r.errors && r.errors[0].extensions.code) || String(e.message);
  }
  console.log(JSON.stringify(out));
}
main().catch((e) => console.log(JSON.stringify({ crash: String(e && e.stack || e) })));
