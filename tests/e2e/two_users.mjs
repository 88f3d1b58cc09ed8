// tests/e2e/two_users.mjs — two people in two browser contexts use the web
// client against a running stack (Apache at BASE_URL): sign up, channels,
// invites, live posts and typing, comments and replies, mentions, DMs,
// notifications, reload, and the realtime daemon killed and restarted.
// Usage: node tests/e2e/two_users.mjs http://127.0.0.1:18080
// Env: E2E_REALTIME=0 (with E2E_REALTIME_REASON) when agora-wsd is not
// available: the scenarios that need it are reported as skipped.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { existsSync } from 'node:fs';
import zlib from 'node:zlib';
import { ROOT, Skip, expect, launch, report, screenshot, unique, watchConsole } from './lib.mjs';

const BASE = process.argv[2] || process.env.BASE_URL || 'http://127.0.0.1:18080';
const REALTIME = process.env.E2E_REALTIME !== '0';
const NO_RT = process.env.E2E_REALTIME_REASON || 'agora-wsd is not available';
const T = 15000; // how long a live update may take to show
const WS_ERRORS = [/WebSocket connection to .* failed/i, /ERR_CONNECTION_REFUSED/, /status of 50[23]/];

const browser = await launch();
const ctxA = await browser.newContext({ baseURL: BASE, viewport: { width: 1200, height: 800 } });
const ctxB = await browser.newContext({ baseURL: BASE, viewport: { width: 1200, height: 800 } });
const A = await ctxA.newPage();
const B = await ctxB.newPage();
const conA = watchConsole(A, 'alice');
const conB = watchConsole(B, 'bob');

const alice = { username: unique('alice'), display: 'Ana Alice', password: 'password123' };
const bob = { username: unique('bob'), display: 'Bob Builder', password: 'password123' };
const channelName = unique('general');
const state = { failed: new Set() };

async function scenario(name, { realtime = false, needs = [] } = {}, fn) {
  const t0 = Date.now();
  try {
    if (realtime && !REALTIME) throw new Skip(NO_RT);
    const missing = needs.filter((n) => state.failed.has(n));
    if (missing.length) throw new Error(`not run: it needs ${missing.join(', ')}, which failed`);
    await fn();
    report(name, 'pass', `${Date.now() - t0} ms`);
  } catch (e) {
    if (e instanceof Skip) {
      report(name, 'skip', e.message);
      return;
    }
    state.failed.add(name);
    const shots = e.message.startsWith('not run:') ? [] : await screenshot({ alice: A, bob: B }, name);
    report(name, 'fail', `${e.message}${shots.length ? ` (screenshots: ${shots.join(', ')})` : ''}`);
  }
}

const messages = (page) => page.getByRole('list', { name: 'Messages', exact: true });
const post = (page, text) => messages(page).getByRole('listitem').filter({ hasText: text }).first();
const channelLink = (page, name) => page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name, exact: true });
const connStatus = (page) => page.getByTestId('connection');
const notifButton = (page) => page.getByRole('button', { name: /^Notifications/ });

async function signUp(page, u) {
  await page.goto('/');
  await page.getByLabel('Username').fill(u.username);
  await page.getByLabel('Password').fill(u.password);
  await page.getByLabel('Display name').fill(u.display);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: T });
}

async function waitOnline(page) {
  // the socket is open when the connection status is empty
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="connection"]');
    return el && el.textContent.trim() === '';
  }, null, { timeout: T });
}

async function gql(page, query, variables) {
  return page.evaluate(
    async ([q, v]) => {
      const r = await fetch('/graphql', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${localStorage.getItem('agora.token')}` },
        body: JSON.stringify({ query: q, variables: v }),
      });
      return r.json();
    },
    [query, variables],
  );
}

function agoraSvc(action, name) {
  const r = spawnSync(path.join(ROOT, 'agora'), ['svc', action, name], {
    env: { ...process.env, AGORA_PROFILE: 'test' },
    encoding: 'utf8',
    timeout: 60000,
  });
  if (r.status !== 0) throw new Error(`./agora svc ${action} ${name} failed: ${r.stderr || r.stdout}`);
}

let channelId = null;

// ---------------------------------------------------------------------------
await scenario('signup_signin', {}, async () => {
  const t0 = Date.now();
  await signUp(A, alice);
  await signUp(B, bob);
  const t1 = Date.now();
  if (t1 - t0 > 10000) console.error(`slow sign up: ${t1 - t0} ms`);
  // a wrong password is refused with a message, and the right one signs in
  const C = await ctxA.browser().newContext({ baseURL: BASE });
  const p = await C.newPage();
  const conC = watchConsole(p, 'carol');
  conC.allowed.push(/status of 401/);
  await p.goto('/');
  await p.getByLabel('Username').fill(alice.username);
  await p.getByLabel('Password').fill('wrong-password');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('alert').filter({ hasText: /wrong/i }).waitFor({ timeout: T });
  await p.getByLabel('Password').fill(alice.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: T });
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: T });
  await C.close();
  expect(!conC.errors.length, conC.errors.join('\n'));
});

await scenario('create_channel_and_invite', { needs: ['signup_signin'] }, async () => {
  await A.getByRole('button', { name: 'New channel' }).click();
  await A.getByLabel('Channel name').fill(channelName);
  await A.getByLabel('Topic').fill('Everything and nothing');
  await A.getByRole('button', { name: 'Create', exact: true }).click();
  await channelLink(A, channelName).waitFor({ timeout: T });
  await A.getByRole('heading', { name: channelName }).waitFor({ timeout: T });
  channelId = A.url().match(/\/c\/(\d+)/)[1];
  // invite Bob from the members panel (owner only)
  await A.getByRole('button', { name: /^Members/ }).click();
  const panel = A.getByRole('complementary', { name: 'Members' });
  await panel.getByLabel('Add member').fill(bob.username);
  await panel.getByRole('option', { name: new RegExp(bob.username) }).waitFor({ timeout: T });
  await panel.getByRole('button', { name: 'Add', exact: true }).click();
  await panel.getByRole('listitem').filter({ hasText: `@${bob.username}` }).waitFor({ timeout: T });
  await A.getByRole('button', { name: 'Close members' }).click();
  // Bob finds the channel in his list without reloading
  await channelLink(B, channelName).waitFor({ timeout: 25000 });
  await channelLink(B, channelName).click();
  await B.getByRole('heading', { name: channelName }).waitFor({ timeout: T });
  await B.getByRole('button', { name: 'Leave' }).waitFor({ timeout: T });
});

await scenario('live_post', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  await waitOnline(A);
  await waitOnline(B);
  await A.getByRole('textbox', { name: 'Message' }).fill('Hello from Ana, first post');
  await A.getByRole('button', { name: 'Send', exact: true }).click();
  await post(A, 'Hello from Ana, first post').waitFor({ timeout: T });
  // Bob sees it appear live, with the author's name
  const p = post(B, 'Hello from Ana, first post');
  await p.waitFor({ timeout: T });
  const text = await p.innerText();
  expect(text.includes('Ana Alice'), `the post shows no author: ${text}`);
});

await scenario('typing_indicator', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  const box = B.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.pressSequentially('I am typ', { delay: 40 });
  await A.getByRole('status').filter({ hasText: 'Bob Builder is typing…' }).waitFor({ timeout: T });
  await box.fill('');
});

await scenario('keyboard_composer_and_channel_list', { needs: ['create_channel_and_invite'] }, async () => {
  // Enter in the composer sends; Shift+Enter would add a line
  const box = B.getByRole('textbox', { name: 'Message' });
  await box.focus();
  await box.pressSequentially('Sent with the keyboard');
  await B.keyboard.press('Enter');
  await post(B, 'Sent with the keyboard').waitFor({ timeout: T });
  for (let i = 0; i < 50 && (await box.inputValue()) !== ''; i++) await B.waitForTimeout(100);
  expect((await box.inputValue()) === '', 'the composer was not cleared after sending');
  // the channel list: links reachable by focus, arrows move between them
  const link = channelLink(B, channelName);
  await link.focus();
  await B.keyboard.press('End');
  await B.keyboard.press('Home');
  const focused = await B.evaluate(() => document.activeElement && document.activeElement.textContent);
  expect(focused && focused.length > 0, 'arrow keys left the channel list');
  await B.keyboard.press('Enter');
  await B.getByRole('heading', { name: /./ }).first().waitFor({ timeout: T });
  await channelLink(B, channelName).click();
  await B.getByRole('heading', { name: channelName }).waitFor({ timeout: T });
});

await scenario('comment_and_reply', { needs: ['create_channel_and_invite'] }, async () => {
  // make sure Ana's post is there for Bob (live or loaded)
  const text = 'A post to comment on';
  await A.getByRole('textbox', { name: 'Message' }).fill(text);
  await A.getByRole('button', { name: 'Send', exact: true }).click();
  await post(A, text).waitFor({ timeout: T });
  if (!REALTIME) await B.reload();
  await post(B, text).waitFor({ timeout: T });
  await post(B, text).getByRole('button', { name: 'Reply' }).click();
  const thread = B.getByRole('complementary', { name: 'Thread' });
  await thread.getByRole('textbox', { name: 'Comment' }).fill('A comment from Bob');
  await thread.getByRole('button', { name: 'Add comment' }).click();
  await thread.getByRole('list', { name: 'Comments' }).getByRole('listitem').filter({ hasText: 'A comment from Bob' }).first().waitFor({ timeout: T });
  // Ana sees the count on her post (live), opens the thread and replies to the comment
  if (REALTIME) await post(A, text).filter({ hasText: '1 comment' }).waitFor({ timeout: T });
  await post(A, text).getByRole('button', { name: 'Reply' }).click();
  const threadA = A.getByRole('complementary', { name: 'Thread' });
  const comment = threadA.getByRole('list', { name: 'Comments' }).getByRole('listitem').filter({ hasText: 'A comment from Bob' }).first();
  await comment.waitFor({ timeout: T });
  await comment.getByRole('button', { name: 'Reply', exact: true }).click();
  await threadA.getByRole('textbox', { name: /^Reply to/ }).fill('A reply from Ana');
  await threadA.getByRole('button', { name: 'Add reply' }).click();
  await threadA.getByText('A reply from Ana').waitFor({ timeout: T });
  // Bob's open thread gets the reply live
  if (REALTIME) await thread.getByText('A reply from Ana').waitFor({ timeout: T });
  await A.getByRole('button', { name: 'Close thread' }).click();
  await B.getByRole('button', { name: 'Close thread' }).click();
});

await scenario('mention_completion', { needs: ['create_channel_and_invite'] }, async () => {
  const box = B.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.pressSequentially(`Hey @${alice.username.slice(0, 6)}`, { delay: 30 });
  const option = B.getByRole('listbox', { name: 'Mention suggestions' }).getByRole('option', { name: new RegExp(alice.username) });
  await option.waitFor({ timeout: T });
  // pick it with the keyboard: move to Ana's entry, then Enter
  for (let i = 0; i < 6; i++) {
    if ((await option.getAttribute('aria-selected')) === 'true') break;
    await B.keyboard.press('ArrowDown');
  }
  await B.keyboard.press('Enter');
  await box.pressSequentially('look at this');
  const value = await box.inputValue();
  expect(value === `Hey @${alice.username} look at this`, `completion gave ${JSON.stringify(value)}`);
  await B.getByRole('button', { name: 'Send', exact: true }).click();
  await post(B, `@${alice.username} look at this`).waitFor({ timeout: T });
});

await scenario('mention_notification_badge', { realtime: true, needs: ['mention_completion'] }, async () => {
  const worker = path.join(process.env.AGORA_BUILD || path.join(ROOT, 'build', 'test'), 'workers', 'agora-worker');
  if (!existsSync(worker)) throw new Skip(`agora-worker is not built (${path.relative(ROOT, worker)}): no mention notifications are made`);
  const r = spawnSync(worker, ['fanout', '--max-seconds', '10'], { env: process.env, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`agora-worker fanout failed: ${r.stderr || r.stdout}`);
  await notifButton(A).filter({ hasText: /[1-9]/ }).waitFor({ timeout: T });
  await notifButton(A).click();
  await A.getByRole('list', { name: 'Notifications' }).getByText('mentioned you').first().waitFor({ timeout: T });
  await notifButton(A).click();
  await notifButton(A).filter({ hasText: /Notifications\s*0/ }).waitFor({ timeout: T });
});

await scenario('follow_notification_badge', { realtime: true, needs: ['signup_signin'] }, async () => {
  const before = Number(((await notifButton(A).innerText()).match(/\d+/) || ['0'])[0]);
  // Bob opens a conversation with Ana (the "New message" picker), then follows her
  await B.getByRole('button', { name: 'New message' }).click();
  await B.getByLabel('Find a person').fill(alice.username);
  await B.getByRole('button', { name: 'Open' }).click();
  await B.getByRole('heading', { name: /Ana Alice/ }).waitFor({ timeout: T });
  await B.getByRole('button', { name: 'Follow' }).click();
  await B.getByRole('button', { name: 'Unfollow' }).waitFor({ timeout: T });
  await notifButton(A).filter({ hasText: String(before + 1) }).waitFor({ timeout: T });
  await notifButton(A).click();
  await A.getByRole('list', { name: 'Notifications' }).getByText('followed you').first().waitFor({ timeout: T });
  await notifButton(A).click();
  await notifButton(A).filter({ hasText: /Notifications\s*0/ }).waitFor({ timeout: T });
});

await scenario('direct_message', { realtime: true, needs: ['signup_signin'] }, async () => {
  // Bob is on Ana's conversation (previous scenario) or opens it now
  if (!/\/dm\//.test(B.url())) {
    await B.getByRole('button', { name: 'New message' }).click();
    await B.getByLabel('Find a person').fill(alice.username);
    await B.getByRole('button', { name: 'Open' }).click();
  }
  await B.getByRole('heading', { name: /Ana Alice/ }).waitFor({ timeout: T });
  await B.getByRole('textbox', { name: 'Message' }).fill('Psst, a direct message');
  await B.getByRole('button', { name: 'Send', exact: true }).click();
  await post(B, 'Psst, a direct message').waitFor({ timeout: T });
  // Ana gets the conversation in her sidebar, with an unread count, live
  const dms = A.getByRole('navigation', { name: 'Direct messages' });
  const link = dms.getByRole('link', { name: /Bob Builder/ });
  await link.waitFor({ timeout: T });
  await dms.getByLabel('1 unread').waitFor({ timeout: T });
  await link.click();
  await post(A, 'Psst, a direct message').waitFor({ timeout: T });
  await A.getByRole('textbox', { name: 'Message' }).fill('Got it');
  await A.getByRole('button', { name: 'Send', exact: true }).click();
  await post(B, 'Got it').waitFor({ timeout: T });
});

await scenario('unread_count', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  // Ana is away from the channel (on the DM view); Bob posts twice there
  await channelLink(B, channelName).click();
  await B.getByRole('heading', { name: channelName }).waitFor({ timeout: T });
  for (const t of ['unread one', 'unread two']) {
    await B.getByRole('textbox', { name: 'Message' }).fill(t);
    await B.getByRole('button', { name: 'Send', exact: true }).click();
    await post(B, t).waitFor({ timeout: T });
  }
  const nav = A.getByRole('navigation', { name: 'Channels' });
  await nav.getByRole('listitem').filter({ hasText: channelName }).getByLabel('2 unread').waitFor({ timeout: T });
  await channelLink(A, channelName).click();
  await post(A, 'unread two').waitFor({ timeout: T });
  await A.waitForFunction(
    (name) => {
      const li = [...document.querySelectorAll('nav[aria-label="Channels"] li')].find((l) => l.textContent.includes(name));
      return li && !li.querySelector('.badge');
    },
    channelName,
    { timeout: T },
  );
});

await scenario('infinite_scroll', { needs: ['create_channel_and_invite'] }, async () => {
  // 45 older posts made over GraphQL, then the channel is opened afresh
  for (let i = 1; i <= 45; i++) {
    const r = await gql(B, 'mutation($c:ID!,$b:String!){createPost(channelId:$c,body:$b){id}}', { c: channelId, b: `bulk post ${String(i).padStart(2, '0')}` });
    expect(!r.errors, `createPost: ${JSON.stringify(r.errors)}`);
  }
  await A.goto(`/c/${channelId}`);
  await post(A, 'bulk post 45').waitFor({ timeout: T });
  const count = () => messages(A).getByRole('listitem').count();
  const first = await count();
  expect(first <= 25, `the first page should be about 20 posts, got ${first}`);
  // scrolling to the top loads older pages until the oldest post is there
  for (let i = 0; i < 20 && !(await post(A, 'bulk post 01').isVisible().catch(() => false)); i++) {
    await messages(A).locator('xpath=..').evaluate((el) => {
      el.scrollTop = 0;
    });
    await A.waitForTimeout(400);
  }
  await post(A, 'bulk post 01').waitFor({ timeout: T });
  expect((await count()) > first, 'no older posts were loaded');
});

await scenario('reload_stays_signed_in', { needs: ['create_channel_and_invite'] }, async () => {
  await A.goto(`/c/${channelId}`);
  await A.reload();
  await A.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: T });
  await A.getByRole('heading', { name: channelName }).waitFor({ timeout: T });
  await post(A, 'Hello from Ana').or(post(A, 'bulk post 45')).first().waitFor({ timeout: T });
  expect(await channelLink(A, channelName).isVisible(), 'the channel list is gone after reload');
});

await scenario('search', { needs: ['signup_signin'] }, async () => {
  await A.getByRole('searchbox', { name: 'Search' }).fill('hello');
  await A.getByRole('searchbox', { name: 'Search' }).press('Enter');
  await A.getByRole('heading', { name: /^Search/ }).waitFor({ timeout: T });
  // either results, nothing found, or a readable error (the index may not be built)
  const done = A.getByRole('list', { name: 'Search results' }).or(A.getByText('Nothing found.')).or(A.getByRole('alert'));
  await done.first().waitFor({ timeout: T });
  const alert = A.getByRole('alert');
  if (await alert.count()) {
    const t = await alert.first().innerText();
    expect(/search/i.test(t), `search error not readable: ${t}`);
  }
});

await scenario('reconnect_after_wsd_restart', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  await A.goto(`/c/${channelId}`);
  await B.goto(`/c/${channelId}`);
  await waitOnline(A);
  await waitOnline(B);
  // a first post read by both sets the read offsets the daemon replays from
  await B.getByRole('textbox', { name: 'Message' }).fill('before the restart');
  await B.getByRole('button', { name: 'Send', exact: true }).click();
  await post(A, 'before the restart').waitFor({ timeout: T });
  conA.allowed.push(...WS_ERRORS);
  conB.allowed.push(...WS_ERRORS);
  agoraSvc('stop', 'wsd');
  let restarted = false;
  try {
    await connStatus(A).filter({ hasText: 'Reconnecting…' }).waitFor({ timeout: T });
    const st = A.getByRole('status').filter({ hasText: 'Reconnecting…' });
    expect((await st.count()) === 1, 'no role=status reads "Reconnecting…"');
    // Bob posts while the daemon is down (GraphQL needs no socket)
    await B.getByRole('textbox', { name: 'Message' }).fill('posted while the daemon was down');
    await B.getByRole('button', { name: 'Send', exact: true }).click();
    await post(B, 'posted while the daemon was down').waitFor({ timeout: T });
    agoraSvc('start', 'wsd');
    restarted = true;
    await waitOnline(A);
    await post(A, 'posted while the daemon was down').waitFor({ timeout: T });
    // and live delivery works again
    await waitOnline(B);
    await B.getByRole('textbox', { name: 'Message' }).fill('after the restart');
    await B.getByRole('button', { name: 'Send', exact: true }).click();
    await post(A, 'after the restart').waitFor({ timeout: T });
  } finally {
    if (!restarted) {
      try {
        agoraSvc('start', 'wsd');
      } catch {
        /* reported by the scenario already */
      }
    }
    conA.allowed.length = 0;
    conB.allowed.length = 0;
  }
});


// ---- issue 17: reactions, edits and an image post seen live by the other user -------------
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A w×h RGB PNG (a gradient), made here: the browser uploads real image bytes. */
function pngBytes(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + 3 * w);
    for (let x = 0; x < w; x++) row.set([(x * 5) % 256, (y * 7) % 256, 160], 1 + 3 * x);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

async function bothOnChannel() {
  for (const page of [A, B]) {
    if (!page.url().endsWith(`/c/${channelId}`)) await page.goto(`/c/${channelId}`);
    await page.getByRole('heading', { name: channelName }).waitFor({ timeout: T });
    await waitOnline(page);
  }
}

async function sendPost(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await post(page, text).waitFor({ timeout: T });
}

await scenario('reactions_live', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  await bothOnChannel();
  const text = `React to this ${unique('r')}`;
  await sendPost(A, text);
  await post(B, text).waitFor({ timeout: T });
  // Bob picks 🎉 from the small picker
  await post(B, text).getByRole('button', { name: 'Add reaction' }).click();
  await B.getByRole('menuitem', { name: 'React 🎉' }).click();
  const mine = post(B, text).getByRole('button', { name: '🎉 1' });
  await mine.waitFor({ timeout: T });
  expect((await mine.getAttribute('aria-pressed')) === 'true', 'Bob\'s own reaction is not shown as his');
  // Ana sees it live, adds hers by clicking the same emoji: both see 2
  const onA = post(A, text).getByRole('button', { name: '🎉 1' });
  await onA.waitFor({ timeout: T });
  expect((await onA.getAttribute('aria-pressed')) === 'false', 'Bob\'s reaction shows as Ana\'s');
  await onA.click();
  await post(A, text).getByRole('button', { name: '🎉 2' }).waitFor({ timeout: T });
  await post(B, text).getByRole('button', { name: '🎉 2' }).waitFor({ timeout: T });
  // Bob takes his back: Ana sees 1 again
  await post(B, text).getByRole('button', { name: '🎉 2' }).click();
  await post(A, text).getByRole('button', { name: '🎉 1' }).waitFor({ timeout: T });
});

await scenario('edit_and_delete_comment_live', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  await bothOnChannel();
  const text = `Comment on me ${unique('e')}`;
  await sendPost(A, text);
  await post(B, text).waitFor({ timeout: T });
  await post(A, text).getByRole('button', { name: 'Reply' }).click();
  await post(B, text).getByRole('button', { name: 'Reply' }).click();
  const threadA = A.getByRole('complementary', { name: 'Thread' });
  const threadB = B.getByRole('complementary', { name: 'Thread' });
  await threadB.getByRole('textbox', { name: 'Comment' }).fill('Tpyo in this comment');
  await threadB.getByRole('button', { name: 'Add comment' }).click();
  const commentOnA = threadA.getByRole('listitem').filter({ hasText: 'Tpyo in this comment' });
  await commentOnA.waitFor({ timeout: T });
  // Ana may not edit Bob's comment: no Edit button for her (she owns the channel: Delete)
  expect((await commentOnA.getByRole('button', { name: 'Edit' }).count()) === 0, 'Ana is offered to edit Bob\'s comment');
  const commentOnB = threadB.getByRole('listitem').filter({ hasText: 'Tpyo in this comment' });
  await commentOnB.getByRole('button', { name: 'Edit' }).click();
  const editor = threadB.getByRole('textbox', { name: 'Edit comment' });
  await editor.fill('Typo in this comment, fixed');
  await threadB.getByRole('button', { name: 'Save' }).click();
  const fixed = threadA.getByRole('listitem').filter({ hasText: 'Typo in this comment, fixed' });
  await fixed.waitFor({ timeout: T });
  expect((await fixed.innerText()).includes('(edited)'), 'the edit is not marked as an edit');
  // Bob deletes it: it leaves Ana's thread live
  B.once('dialog', (d) => d.accept());
  await threadB.getByRole('listitem').filter({ hasText: 'Typo in this comment, fixed' }).getByRole('button', { name: 'Delete' }).click();
  await fixed.waitFor({ state: 'detached', timeout: T });
  await A.getByRole('button', { name: 'Close thread' }).click();
  await B.getByRole('button', { name: 'Close thread' }).click();
});

await scenario('image_post_live', { realtime: true, needs: ['create_channel_and_invite'] }, async () => {
  await bothOnChannel();
  // Ana drops a picture on the composer; it uploads (progress) and then she sends
  const bytes = [...pngBytes(48, 32)];
  await A.evaluate((arr) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(arr)], 'gradient.png', { type: 'image/png' }));
    const form = document.querySelector('section.chat form.composer');
    form.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
    form.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
  }, bytes);
  await A.getByRole('list', { name: 'Attachments to send' }).getByText('gradient.png').waitFor({ timeout: T });
  const sendBtn = A.getByRole('button', { name: 'Send', exact: true });
  for (let i = 0; i < 100 && (await sendBtn.isDisabled()); i++) await A.waitForTimeout(100);
  const text = `Look at this picture ${unique('i')}`;
  await A.getByRole('textbox', { name: 'Message' }).fill(text);
  await sendBtn.click();
  await post(A, text).waitFor({ timeout: T });
  // Bob sees the post live with its thumbnail, loaded (his cookie authorizes the file)
  const thumb = post(B, text).getByRole('img', { name: 'image 48×32' });
  await thumb.waitFor({ timeout: T });
  await B.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle(), { timeout: T });
  // the thumbnail opens the full image
  await post(B, text).getByRole('button', { name: /^Open image/ }).click();
  const full = B.getByRole('dialog', { name: 'Image' }).getByRole('img');
  await full.waitFor({ timeout: T });
  await B.waitForFunction((el) => el.complete && el.naturalWidth === 48, await full.elementHandle(), { timeout: T });
  await B.getByRole('button', { name: 'Close image' }).click();
});

await scenario('avatar', { needs: ['signup_signin'] }, async () => {
  await A.getByLabel('Avatar file').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: pngBytes(80, 60) });
  const img = A.getByRole('img', { name: 'your avatar' });
  await img.waitFor({ timeout: T });
  await A.waitForFunction((el) => el.complete && el.naturalWidth === 256, await img.elementHandle(), { timeout: T });
});

await scenario('sign_out', { needs: ['signup_signin'] }, async () => {
  await B.getByRole('button', { name: 'Sign out' }).click();
  await B.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: T });
  await B.reload();
  await B.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: T });
  expect(!(await B.evaluate(() => localStorage.getItem('agora.token'))), 'the token is still stored');
});

await scenario('no_console_errors', {}, async () => {
  const errs = [...conA.errors, ...conB.errors];
  expect(!errs.length, `console errors:\n${errs.join('\n')}`);
});

await browser.close();
