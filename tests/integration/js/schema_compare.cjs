// tests/integration/js/schema_compare.cjs — what a graphql-js 16 client (the
// web client's own copy, web/node_modules/graphql) makes of the server's
// schema: the introspection with every option of graphql-js 16.15
// (inputValueDeprecation, oneOf, ...) built with buildClientSchema, compared
// with the published SDL built with buildSchema. Prints one JSON object.
// usage: node schema_compare.cjs BASE_URL WEB_DIR
const path = require('path');
const { createRequire } = require('module');

const [base, web] = process.argv.slice(2);
const g = createRequire(path.join(web, 'package.json'))('graphql');

async function main() {
  const opts = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
                 schemaDescription: true, inputValueDeprecation: true, oneOf: true };
  const res = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: g.getIntrospectionQuery(opts) }),
  });
  const intro = await res.json();
  const sdl = await (await fetch(base + '/graphql/schema.graphql')).text();
  const client = g.buildClientSchema(intro.data);
  const published = g.buildSchema(sdl);
  const sorted = (s) => g.printSchema(g.lexicographicSortSchema(s));
  const changes = (a, b) => [...g.findBreakingChanges(a, b), ...g.findDangerousChanges(a, b)]
    .map((c) => `${c.type}: ${c.description}`);
  const oneOf = {};
  for (const s of [['client', client], ['sdl', published]]) {
    const t = s[1].getType('UserBy');
    oneOf[s[0]] = { isOneOf: !!(t && t.isOneOf), directive: !!s[1].getDirective('oneOf') };
  }
  const argDep = g.getIntrospectionQuery(opts).includes('args(includeDeprecated: true)');
  console.log(JSON.stringify({
    version: g.version,
    validSchema: g.validateSchema(client).map((e) => e.message),
    introspectionToSdl: changes(client, published),
    sdlToIntrospection: changes(published, client),
    samePrinted: sorted(client) === sorted(published),
    printedClient: sorted(client),
    printedSdl: sorted(published),
    oneOf, argDep,
    directives: client.getDirectives().map((d) => d.name),
  }));
}
main().catch((e) => { console.log(JSON.stringify({ crash: String(e && e.stack || e) })); });
