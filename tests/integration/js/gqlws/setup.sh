#!/bin/sh
# tests/integration/js/gqlws/setup.sh — install the Node client of the GraphQL
# over WebSocket tests (apollo_ws.cjs: @apollo/client, graphql, graphql-ws, ws)
# from the committed package-lock.json. ./agora test runs it before the
# integration tests; test_gqlws.py runs it too when node_modules is missing (a
# run of tests/run_integration.py by hand). Idempotent: with node_modules
# matching the lockfile it only checks that the client loads.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

command -v node >/dev/null 2>&1 || { echo "setup.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup.sh: npm is not installed" >&2; exit 1; }

# node_modules matches the lockfile when npm left its own copy of it there
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# the client's imports resolve: fail here rather than in the middle of a test
node -e 'require("@apollo/client/core"); require("@apollo/client/link/subscriptions");
         require("graphql-ws"); require("ws");'
