// tests/e2e/tus_resume.mjs — a resumable upload with the real tus-js-client (4.2, from
// web/node_modules) through a TCP proxy that drops the connection in the middle of a
// PATCH. tus-js-client must ask the server where it stands (HEAD) and resume from
// there; the file must arrive whole, larger than Apache's LimitRequestBody (1 MiB).
// Usage: node tests/e2e/tus_resume.mjs HTTP_PORT TOKEN
// Prints one JSON line: {ok, attachmentId, sha256, drops, heads, patches, error?}
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const tus = require('tus-js-client');

const [port, token] = [Number(process.argv[2]), process.argv[3]];
const stats = { drops: 0, heads: 0, patches: 0 };

// the proxy: counts requests by method; the 2nd PATCH is cut after 200 KB of it
const proxy = net.createServer((client) => {
  const server = net.connect(port, '127.0.0.1');
  let budget = -1;
  let dead = false;
  client.on('data', (buf) => {
    if (dead) return; // nothing more gets through a dead link
    const text = buf.toString('latin1');
    stats.heads += (text.match(/^HEAD \/api\/v1\/uploads\//gm) || []).length;
    const patches = (text.match(/^PATCH \/api\/v1\/uploads\//gm) || []).length;
    if (patches) {
      stats.patches += patches;
      if (stats.patches === 2 && stats.drops === 0) budget = 200 * 1024;
    }
    if (budget >= 0) {
      const part = buf.subarray(0, Math.max(0, budget));
      server.write(part);
      budget -= buf.length;
      if (budget < 0) {
        stats.drops++;
        budget = -1;
        dead = true;
        // the peer's side of a dead network: both ends just go away
        setTimeout(() => { server.destroy(); client.destroy(); }, 50);
      }
      return;
    }
    server.write(buf);
  });
  server.on('data', (d) => client.write(d));
  const end = () => { client.destroy(); server.destroy(); };
  client.on('error', end); server.on('error', end); client.on('close', end); server.on('close', end);
});

function finish(result) {
  process.stdout.write(`${JSON.stringify({ ...result, ...stats })}\n`);
  proxy.close();
  process.exit(0);
}

function fetchFile(id) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/api/v1/files/${id}`, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const h = createHash('sha256');
      let n = 0;
      res.on('data', (d) => { h.update(d); n += d.length; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], sha256: h.digest('hex'), size: n }));
    }).on('error', reject);
  });
}

proxy.listen(0, '127.0.0.1', () => {
  // 3 MiB of plain text: over LimitRequestBody, an allowed type whatever it is called
  const lines = [];
  for (let i = 0; lines.join('').length < 3 * 1024 * 1024; i++) lines.push(`line ${i} of a resumable upload through a flaky network\n`.repeat(64));
  const file = Buffer.from(lines.join('').slice(0, 3 * 1024 * 1024));
  const want = createHash('sha256').update(file).digest('hex');
  const upload = new tus.Upload(file, {
    endpoint: `http://127.0.0.1:${proxy.address().port}/api/v1/uploads/`,
    chunkSize: 512 * 1024,
    retryDelays: [0, 200, 500, 1000, 2000],
    headers: { Authorization: `Bearer ${token}` },
    metadata: { filename: 'flaky.txt', filetype: 'text/plain' },
    storeFingerprintForResuming: false,
    onError: (e) => finish({ ok: false, error: String(e && e.message ? e.message : e) }),
    onSuccess: async ({ lastResponse }) => {
      const id = lastResponse.getHeader('Agora-Attachment-Id');
      if (!id) return finish({ ok: false, error: 'no Agora-Attachment-Id on the last PATCH' });
      const got = await fetchFile(id);
      finish({ ok: got.status === 200 && got.sha256 === want, attachmentId: id, want, got });
    },
  });
  upload.start();
  setTimeout(() => finish({ ok: false, error: 'timed out after 60 s' }), 60000);
});
