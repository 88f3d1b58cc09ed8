#!/usr/bin/env node
// tests/peers/mongo/server.js PORT — an in-memory MongoDB wire peer (CongoDB)
// on 127.0.0.1:PORT for tests. Installed by ./setup.sh. Prints "ready PORT"
// on stdout once it accepts connections; stops on SIGTERM or SIGINT.
// What it does not do (see ENVIRONMENT.md): enforce unique indexes other than
// _id, roll back transactions, accept w:0 writes, authenticate.
'use strict';
const path = require('path');

async function main() {
    const port = Number(process.argv[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        console.error('usage: server.js PORT');
        process.exit(2);
    }
    const entry = path.join(__dirname, 'smartmongo', 'dist_ts', 'congodb', 'index.js');
    const { CongoServer } = await import(entry);
    const server = new CongoServer({ port, host: '127.0.0.1' });
    await server.start();
    const stop = async () => {
        try { await server.stop(); } finally { process.exit(0); }
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    console.log(`ready ${port}`);
}

main().catch((e) => {
    console.error(`server.js: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
