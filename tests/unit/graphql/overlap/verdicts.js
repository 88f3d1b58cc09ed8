// tests/unit/graphql/overlap/verdicts.js — graphql-js's verdict on each document
// of a JSON-lines file: "conflict" when OverlappingFieldsCanBeMerged reports one.
// node verdicts.js docs.jsonl (graphql 16.15 from web/node_modules after npm ci).
const path = require('path');
const g = require(path.join(__dirname, '../../../../web/node_modules/graphql'));
const fs = require('fs');
const schema = g.buildSchema(fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'));
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
for (const l of lines) {
  const q = JSON.parse(l);
  const doc = g.parse(q);
  const errs = g.validate(schema, doc, [g.OverlappingFieldsCanBeMergedRule]);
  console.log(errs.length ? 'conflict' : 'ok');
}
