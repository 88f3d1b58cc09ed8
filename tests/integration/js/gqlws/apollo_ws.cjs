// tests/integration/js/gqlws/apollo_ws.cjs — Apollo Client over GraphQL over
// WebSocket (GraphQLWsLink + graphql-ws's createClient, the graphql-transport-ws
// subprotocol) as an Apollo user runs it, driven line by line so that a test can
// act (post, leave a channel) while it listens. tests/integration/test_gqlws.py
// drives it; `npm ci` in this folder installs what it needs (./agora test does).
//
// usage: node apollo_ws.cjs CONFIG_JSON
//   CONFIG_JSON: {"url": "ws://127.0.0.1:8080/graphql",   required
//                 "token": "<jwt>",          connection_init {"authorization": "Bearer <jwt>"}
//                 "connectionParams": {...}, sent instead of the token's
//                 "lazy": true,              false: connect now and keep the socket open
//                 "retryAttempts": 0,        graphql-ws reconnects (0: a close is final)
//                 "lifeMs": 60000,           the process ends after this, whatever happens
//                 "errorPolicy": "all",      Apollo's, for subscriptions
//                 "trace": false}            also print every protocol message received
// stdin, one JSON command a line:
//   {"op":"subscribe","id":"a","query":"subscription ...","variables":{...},"max":N}
//       (max: unsubscribe after N results)
//   {"op":"unsubscribe","id":"a"}
//   {"op":"query","id":"q","query":"query ...","variables":{...}}   client.query
//   {"op":"mutate","id":"m","query":"mutation ...","variables":{...}} client.mutate
//   {"op":"exit"}                      (end of stdin does the same)
// stdout, one JSON object a line, written as it happens (stdout to a pipe is
// synchronous in Node on Linux, so a line is out before the next event):
//   {"ev":"ready"}  {"ev":"connecting"}  {"ev":"connected","payload":...}
//   {"ev":"closed","code":4403,"reason":"Forbidden"}  {"ev":"trace","message":{...}}
//   {"ev":"data","id":"a","n":1,"data":{...},"errors":[...]}   one per result
//   {"ev":"error","id":"a","message":"...","graphQLErrors":[...],"protocolErrors":[...],
//    "networkError":"..."}                                     observer.error
//   {"ev":"complete","id":"a"}  {"ev":"unsubscribed","id":"a"}
//   {"ev":"result","id":"q","data":...,"errors":[...]}          query / mutate
//   {"ev":"bad_command","line":"..."}  {"ev":"crash","error":"..."}
//   {"ev":"bye","why":"exit"|"eof"|"life"}                      last line
'use strict';

const WebSocket = require('ws');
// Apollo's GraphQLWsLink tests errors against the global WebSocket (a browser
// has one, Node 20 does not): without it an `error` message becomes a ReferenceError
globalThis.WebSocket = globalThis.WebSocket || WebSocket;

const readline = require('readline');
const { ApolloClient, InMemoryCache, gql } = require('@apollo/client/core');
const { GraphQLWsLink } = require('@apollo/client/link/subscriptions');
const { createClient } = require('graphql-ws');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let config;
try {
  config = JSON.parse(process.argv[2] || '');
  if (typeof config.url !== 'string') throw new Error('config.url is required');
} catch (e) {
  out({ ev: 'crash', error: 'bad CONFIG_JSON: ' + e.message });
  process.exit(2);
}

let ending = false;
let wsClient = null;
let apollo = null;

function finish(why, code = 0) {
  if (ending) return;
  ending = true;
  try {
    if (apollo) apollo.stop();
    if (wsClient) wsClient.dispose();
  } catch (e) {
    out({ ev: 'crash', error: String((e && e.stack) || e) });
  }
  out({ ev: 'bye', why });
  // let a close frame from dispose() leave; never wait for the server
  setTimeout(() => process.exit(code), 100).unref();
}

// the bound on the whole process: a test that forgets it never leaves it running
setTimeout(() => finish('life'), config.lifeMs || 60000).unref();
process.on('uncaughtException', (e) => {
  out({ ev: 'crash', error: String((e && e.stack) || e) });
  finish('crash', 1);
});
process.on('unhandledRejection', (e) => {
  out({ ev: 'crash', error: String((e && e.stack) || e) });
});

const connectionParams = config.connectionParams ||
  (config.token ? { authorization: 'Bearer ' + config.token } : undefined);

wsClient = createClient({
  url: config.url,
  webSocketImpl: WebSocket,
  connectionParams,
  lazy: config.lazy !== false,
  retryAttempts: config.retryAttempts || 0,
  onNonLazyError: (e) => out({ ev: 'error', id: null, ...describe(e) }),
  on: {
    connecting: () => out({ ev: 'connecting' }),
    connected: (_socket, payload) => out({ ev: 'connected', payload: payload === undefined ? null : payload }),
    closed: (e) => out({ ev: 'closed', code: e && e.code, reason: e && e.reason }),
    message: (m) => { if (config.trace) out({ ev: 'trace', message: m }); },
  },
});

apollo = new ApolloClient({
  link: new GraphQLWsLink(wsClient),
  cache: new InMemoryCache(),
  // two subscriptions with one document are two subscriptions on the server
  queryDeduplication: false,
});

// observer.error's argument as JSON: an ApolloError (GraphQL errors of an
// `error` message), or an Error for a closed socket ("Socket closed with event 4403 …")
function describe(e) {
  const d = { message: String((e && e.message) || e) };
  if (e && Array.isArray(e.graphQLErrors)) d.graphQLErrors = e.graphQLErrors;
  if (e && Array.isArray(e.protocolErrors) && e.protocolErrors.length) d.protocolErrors = e.protocolErrors;
  if (e && e.networkError) d.networkError = String(e.networkError.message || e.networkError);
  if (e && typeof e.code === 'number') d.code = e.code;
  return d;
}

const subs = new Map();

function subscribe(cmd) {
  let n = 0;
  const sub = apollo.subscribe({
    query: gql(cmd.query),
    variables: cmd.variables || {},
    fetchPolicy: 'no-cache',
    errorPolicy: config.errorPolicy || 'all',
  }).subscribe({
    next: (r) => {
      n += 1;
      const line = { ev: 'data', id: cmd.id, n, data: r.data === undefined ? null : r.data };
      if (r.errors) line.errors = r.errors;
      out(line);
      if (cmd.max && n >= cmd.max) unsubscribe(cmd.id);
    },
    error: (e) => { subs.delete(cmd.id); out({ ev: 'error', id: cmd.id, ...describe(e) }); },
    complete: () => { subs.delete(cmd.id); out({ ev: 'complete', id: cmd.id }); },
  });
  subs.set(cmd.id, sub);
}

function unsubscribe(id) {
  const sub = subs.get(id);
  if (!sub) return out({ ev: 'unsubscribed', id, known: false });
  subs.delete(id);
  sub.unsubscribe();
  out({ ev: 'unsubscribed', id, known: true });
}

function operate(cmd) {
  const doc = gql(cmd.query);
  const run = cmd.op === 'query'
    ? apollo.query({ query: doc, variables: cmd.variables || {}, fetchPolicy: 'no-cache' })
    : apollo.mutate({ mutation: doc, variables: cmd.variables || {} });
  run.then(
    (r) => out({ ev: 'result', id: cmd.id, data: r.data === undefined ? null : r.data, ...(r.errors ? { errors: r.errors } : {}) }),
    (e) => out({ ev: 'error', id: cmd.id, ...describe(e) }),
  );
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim() || ending) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    return out({ ev: 'bad_command', line });
  }
  try {
    if (cmd.op === 'subscribe') subscribe(cmd);
    else if (cmd.op === 'unsubscribe') unsubscribe(cmd.id);
    else if (cmd.op === 'query' || cmd.op === 'mutate') operate(cmd);
    else if (cmd.op === 'exit') finish('exit');
    else out({ ev: 'bad_command', line });
  } catch (e) {
    // gql() throws on a document graphql-js cannot parse
    out({ ev: 'error', id: cmd.id === undefined ? null : cmd.id, local: true, ...describe(e) });
  }
});
rl.on('close', () => finish('eof'));
out({ ev: 'ready' });
