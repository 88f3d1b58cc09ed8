'use strict';
// bench/peers/common.js — what every Node peer shares with Agora: the HS256
// JWT check (same key file, same rules as lib/auth/auth.c), a pg pool on the
// same PostgreSQL, and the optional cluster of workers.
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { Pool } = require('pg');

const CLOCK_SKEW_S = 60;

function readKey(path) {
  // lib/auth/auth.c drops trailing newlines, CRs and spaces: a key is the rest, as bytes
  let b = fs.readFileSync(path);
  let n = b.length;
  while (n && (b[n - 1] === 0x0a || b[n - 1] === 0x0d || b[n - 1] === 0x20)) n--;
  return b.subarray(0, n);
}

const KEY = readKey(process.env.JWT_KEY_FILE);

function b64urlJson(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}

// The user id of a valid "Authorization: Bearer <jwt>", else 0. Pinned to HS256,
// iss "agora", exp in the future, nbf/iat not in the future, sub a positive decimal.
function verifyBearer(header) {
  if (typeof header !== 'string' || header.slice(0, 7).toLowerCase() !== 'bearer ') return 0;
  const tok = header.slice(7).trim();
  const parts = tok.split('.');
  if (parts.length !== 3) return 0;
  try {
    const h = b64urlJson(parts[0]);
    if (h.alg !== 'HS256') return 0;
    const mac = crypto.createHmac('sha256', KEY).update(parts[0] + '.' + parts[1]).digest();
    const sig = Buffer.from(parts[2], 'base64url');
    if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return 0;
    const p = b64urlJson(parts[1]);
    const now = Math.floor(Date.now() / 1000);
    if (p.iss !== 'agora' || typeof p.exp !== 'number' || p.exp <= now) return 0;
    if (typeof p.nbf === 'number' && p.nbf > now + CLOCK_SKEW_S) return 0;
    if (typeof p.iat === 'number' && p.iat > now + CLOCK_SKEW_S) return 0;
    if (typeof p.sub !== 'string' || !/^[1-9][0-9]{0,18}$/.test(p.sub)) return 0;
    return p.sub;
  } catch (e) {
    return 0;
  }
}

function pool() {
  return new Pool({
    host: process.env.PGHOST || '127.0.0.1',
    port: +(process.env.PGPORT || 5432),
    user: process.env.PGUSER || 'agora',
    database: process.env.PGDATABASE || 'agora',
    max: +(process.env.PG_POOL || 10),  // pg's default pool size
  });
}

// Run main() in this process (WORKERS=1) or in WORKERS forked workers sharing the port.
function run(main) {
  const n = +(process.env.WORKERS || 1);
  if (n > 1 && cluster.isPrimary) {
    for (let i = 0; i < n; i++) cluster.fork();
    const stop = () => { for (const id in cluster.workers) cluster.workers[id].kill('SIGTERM'); process.exit(0); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return;
  }
  process.on('SIGTERM', () => process.exit(0));
  main().catch((e) => { console.error(e); process.exit(1); });
}

// Agora's timestamps: RFC 3339 UTC with milliseconds
function rfc3339(ms) {
  return ms == null ? null : new Date(Number(ms)).toISOString();
}

module.exports = { verifyBearer, pool, run, rfc3339 };
