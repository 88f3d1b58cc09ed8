// tests/e2e/lib.mjs — a small harness for Agora's browser tests: Debian's
// chromium driven by playwright-core (from web/node_modules, installed by
// ./agora from web/package-lock.json), scenarios reported one JSON line each.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const OUTPUT = path.join(here, 'output');
const require = createRequire(path.join(ROOT, 'web', 'package.json'));
export const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launch() {
  // playwright makes its own fresh --user-data-dir for each launch
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** one line per scenario, read by tests/integration/test_web_e2e.py */
export function report(name, status, detail = '') {
  process.stdout.write(`E2E ${JSON.stringify({ name, status, detail })}\n`);
}

export class Skip extends Error {}

/**
 * Console errors of a page: every console.error and uncaught exception is a
 * failure, except messages that match an `allowed` pattern while allowed.
 */
export function watchConsole(page, label) {
  const w = { errors: [], allowed: [], label };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (w.allowed.some((re) => re.test(text))) return;
    w.errors.push(`${label}: console.error: ${text}`);
  });
  page.on('pageerror', (err) => w.errors.push(`${label}: uncaught: ${err.message}`));
  return w;
}

export async function screenshot(pages, name) {
  mkdirSync(OUTPUT, { recursive: true });
  const files = [];
  for (const [label, page] of Object.entries(pages)) {
    if (!page || page.isClosed()) continue;
    const f = path.join(OUTPUT, `${name}-${label}.png`);
    try {
      const frames = await page.evaluate(() => (window.__agoraRealtime ? window.__agoraRealtime.recent : null));
      if (frames) writeFileSync(path.join(OUTPUT, `${name}-${label}-frames.json`), JSON.stringify(frames, null, 1));
    } catch {
      /* no page to ask */
    }
    try {
      await page.screenshot({ path: f, fullPage: true });
      files.push(path.relative(ROOT, f));
    } catch {
      /* the page may be gone */
    }
  }
  return files;
}

export function unique(prefix) {
  return `${prefix}${process.pid % 1000}_${Date.now() % 1000000}`;
}

export function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}
