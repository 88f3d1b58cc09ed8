#!/bin/sh
# tests/peers/mongo/setup.sh — install the MongoDB wire peer used by the
# content store's conformance suite (tests/integration/test_content_store.py).
# Idempotent: a second run with everything in place only checks and exits.
#
# Why two steps: a full `npm install @push.rocks/smartmongo` fails (some of its
# dependencies' versions are missing from the registry), and the peer needs
# only CongoDB's dist_ts/congodb/ and six packages. So the package is
# `npm pack`ed and unpacked into ./smartmongo/, and those six packages are
# installed from the committed package-lock.json into ./node_modules/, where
# Node's resolver finds them from ./smartmongo/ (it walks up the tree).
# Both directories are generated and ignored by git.
set -eu

SMARTMONGO=@push.rocks/smartmongo@2.2.0
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

command -v node >/dev/null 2>&1 || { echo "setup.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup.sh: npm is not installed" >&2; exit 1; }

# node_modules matches the lockfile when npm left its own copy of it there
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -f smartmongo/dist_ts/congodb/index.js ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    npm pack "$SMARTMONGO" --pack-destination "$tmp" --loglevel=error >/dev/null
    rm -rf smartmongo.partial
    mkdir smartmongo.partial
    tar -xzf "$tmp"/*.tgz -C smartmongo.partial --strip-components=1
    rm -rf smartmongo
    mv smartmongo.partial smartmongo   # atomic: a half-unpacked tree is never used
fi

# the peer's imports resolve: fail here rather than in the middle of a test
node -e 'import("./smartmongo/dist_ts/congodb/index.js").then((m) => {
    if (typeof m.CongoServer !== "function") { console.error("no CongoServer"); process.exit(1); }
}).catch((e) => { console.error(e.message); process.exit(1); })'
