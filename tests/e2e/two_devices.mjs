// tests/e2e/two_devices.mjs — one person on two devices (two browser contexts
// signed in as the same user) and another person (issue 16): a post that
// mentions you raises the unread and mentions badges on both devices, reading
// on one clears both, a channel set to "Nothing" makes no notification and no
// mention badge, and blocking someone refuses their DMs until unblocked.
// The counts are the server's (GET /channels?member=me); notifications need
// the fanout job, which tests/integration/test_web_e2e.py runs --resident, as
// cron does, for this script.
// Usage: node tests/e2e/two_devices.mjs http://127.0.0.1:18080
import { Skip, expect, launch, report, screenshot, unique, watchConsole } from './lib.mjs';

const BASE = process.argv[2] || process.env.BASE_URL || 'http://127.0.0.1:18080';
const REALTIME = process.env.E2E_REALTIME !== '0';
const NO_RT = process.env.E2E_REALTIME_REASON || 'agora-wsd is not available';
const T = 15000;

const browser = await launch();
const ctx = () => browser.newContext({ baseURL: BASE, viewport: { width: 1200, height: 800 } });
const D1 = await (await ctx()).newPage(); // dana's laptop
const D2 = await (await ctx()).newPage(); // dana's phone
const V = await (await ctx()).newPage(); // vic
const cons = [watchConsole(D1, 'dana-1'), watchConsole(D2, 'dana-2'), watchConsole(V, 'vic')];

const dana = { username: unique('dana'), display: 'Dana Two', password: 'password123' };
const vic = { username: unique('vic'), display: 'Vic Other', password: 'password123' };
const state = { failed: new Set() };
let quiet = null; // the channel set to "Nothing"
let loud = null; // a channel left at "Everything"

async function scenario(name, needs, fn) {
  const t0 = Date.now();
  try {
    if (!REALTIME) throw new Skip(NO_RT);
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
    const shots = e.message.startsWith('not run:') ? [] : await screenshot({ dana1: D1, dana2: D2, vic: V }, name);
    report(name, 'fail', `${e.message}${shots.length ? ` (screenshots: ${shots.join(', ')})` : ''}`);
  }
}

const channelItem = (page, name) =>
  page.getByRole('navigation', { name: 'Channels' }).getByRole('listitem').filter({ hasText: name });
const channelLink = (page, name) => page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name, exact: true });
const notifButton = (page) => page.getByRole('button', { name: /^Notifications/ });


async function signUp(page, u) {
  await page.goto('/');
  await page.getByLabel('Username').fill(u.username);
  await page.getByLabel('Password').fill(u.password);
  await page.getByLabel('Display name').fill(u.display);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: T });
}

async function signIn(page, u) {
  await page.goto('/');
  await page.getByLabel('Username').fill(u.username);
  await page.getByLabel('Password').fill(u.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: T });
}

async function waitOnline(page) {
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="connection"]');
    return el && el.textContent.trim() === '';
  }, null, { timeout: T });
}

/** REST or GraphQL as the page's signed-in user. */
async function call(page, method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const r = await fetch(p, {
        method: m,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${localStorage.getItem('agora.token')}` },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [method, path, body],
  );
}

async function me(page) {
  return (await call(page, 'GET', '/api/v1/users/me')).body;
}

async function newChannel(owner, member, memberId, prefix) {
  const name = unique(prefix);
  const r = await call(owner, 'POST', '/api/v1/channels', { name, visibility: 'public' });
  expect(r.status === 201, `create channel: ${JSON.stringify(r)}`);
  const j = await call(member, 'PUT', `/api/v1/channels/${r.body.id}/members/${memberId}`, {});
  expect(j.status === 200 || j.status === 201, `join: ${JSON.stringify(j)}`);
  return { id: r.body.id, name };
}

async function postAs(page, channelId, body) {
  const r = await call(page, 'POST', '/graphql', {
    query: 'mutation($c:ID!,$b:String!){createPost(channelId:$c,body:$b){id}}',
    variables: { c: channelId, b: body },
  });
  expect(!r.body.errors, `createPost: ${JSON.stringify(r.body.errors)}`);
  return r.body.data.createPost.id;
}

async function noBadges(page, name) {
  await page.waitForFunction(
    (n) => {
      const li = [...document.querySelectorAll('nav[aria-label="Channels"] li')].find((l) => l.textContent.includes(n));
      return li && !li.querySelector('.badge');
    },
    name,
    { timeout: T },
  );
}

// ---------------------------------------------------------------------------
let danaId = null;
let vicId = null;

await scenario('two_devices_setup', [], async () => {
  await signUp(D1, dana);
  await signIn(D2, dana);
  await signUp(V, vic);
  danaId = (await me(D1)).id;
  vicId = (await me(V)).id;
  quiet = await newChannel(D1, V, vicId, 'quiet');
  loud = await newChannel(D1, V, vicId, 'loud');
  for (const p of [D1, D2]) {
    await p.reload();
    await channelLink(p, quiet.name).waitFor({ timeout: T });
    await waitOnline(p);
  }
  await waitOnline(V);
});

await scenario('two_devices_mention_raises_unread_and_mentions_on_both', ['two_devices_setup'], async () => {
  // both devices are away from the channel (home)
  await postAs(V, quiet.id, 'a plain post');
  await postAs(V, quiet.id, `hello @${dana.username}, this is for you`);
  for (const p of [D1, D2]) {
    const item = channelItem(p, quiet.name);
    await item.getByLabel('2 unread').waitFor({ timeout: T });
    await item.getByLabel('1 mention').waitFor({ timeout: T });
  }
});

await scenario('two_devices_reading_on_one_clears_both', ['two_devices_mention_raises_unread_and_mentions_on_both'], async () => {
  await channelLink(D1, quiet.name).click();
  await D1.getByRole('heading', { name: quiet.name }).waitFor({ timeout: T });
  await noBadges(D1, quiet.name);
  // the other device hears it (read_state) and shows the server's counts: none
  await noBadges(D2, quiet.name);
  // and the server agrees, for any device that asks
  const r = await call(D2, 'GET', '/api/v1/channels?member=me&limit=100');
  const item = r.body.items.find((c) => String(c.id) === String(quiet.id));
  expect(item && item.unread === 0 && item.mentions === 0, `server counts after the read: ${JSON.stringify(item)}`);
});

await scenario('two_devices_level_none_silences', ['two_devices_reading_on_one_clears_both'], async () => {
  // set from the channel header, on the device that is in the channel
  const select = D1.getByLabel('Notifications for this channel');
  await select.waitFor({ timeout: T });
  await select.selectOption('none');
  await D1.waitForFunction(
    async (id) => {
      const r = await fetch(`/api/v1/channels/${id}/notifications`, {
        headers: { Authorization: `Bearer ${localStorage.getItem('agora.token')}` },
      });
      return (await r.json()).level === 'none';
    },
    quiet.id,
    { timeout: T },
  );
  await D1.goto('/');
  await channelLink(D1, quiet.name).waitFor({ timeout: T });
  const muted = await postAs(V, quiet.id, `@${dana.username} you muted this`);
  const heard = await postAs(V, loud.id, `@${dana.username} but not this`);
  // the mention in the loud channel makes a notification, shown on the other device: the
  // fanout job has handled both posts by then (it takes events in order)
  const deadline = Date.now() + T;
  let items = [];
  while (Date.now() < deadline) {
    items = (await call(D2, 'GET', '/api/v1/notifications?limit=100')).body.items;
    if (items.some((x) => x.postId === heard)) break;
    await D2.waitForTimeout(200);
  }
  expect(items.some((x) => x.postId === heard && x.kind === 'mention'), `no notification for the loud channel's mention`);
  expect(!items.some((x) => x.postId === muted), `a notification from the channel set to Nothing: ${JSON.stringify(items)}`);
  await notifButton(D2).filter({ hasText: /[1-9]/ }).waitFor({ timeout: T });
  for (const p of [D1, D2]) {
    const item = channelItem(p, quiet.name);
    await item.getByLabel('1 unread').waitFor({ timeout: T });
    expect((await item.locator('.badge.mention').count()) === 0, 'a mention badge in a channel set to Nothing');
    await channelItem(p, loud.name).getByLabel('1 mention').waitFor({ timeout: T });
  }
});

await scenario('two_devices_block_refuses_dms', ['two_devices_setup'], async () => {
  // dana blocks vic from his profile (the conversation page)
  await D1.goto(`/dm/${vicId}`);
  await D1.getByRole('heading', { name: /Vic Other/ }).waitFor({ timeout: T });
  await D1.getByRole('button', { name: 'Block', exact: true }).click();
  await D1.getByRole('button', { name: 'Unblock', exact: true }).waitFor({ timeout: T });
  await D1.getByRole('note').filter({ hasText: 'You blocked' }).waitFor({ timeout: T });
  // vic's message is refused, with the reason shown
  await V.goto(`/dm/${danaId}`);
  await V.getByRole('heading', { name: /Dana Two/ }).waitFor({ timeout: T });
  cons[2].allowed.push(/does not accept your messages/);
  await V.getByRole('textbox', { name: 'Message' }).fill('are you there?');
  await V.getByRole('button', { name: 'Send', exact: true }).click();
  await V.getByRole('alert').filter({ hasText: 'does not accept your messages' }).waitFor({ timeout: T });
  // unblocked: the next one goes through and reaches dana's other device live
  await D1.getByRole('button', { name: 'Unblock', exact: true }).click();
  await D1.getByRole('button', { name: 'Block', exact: true }).waitFor({ timeout: T });
  await V.getByRole('textbox', { name: 'Message' }).fill('and now?');
  await V.getByRole('button', { name: 'Send', exact: true }).click();
  await V.getByRole('list', { name: 'Messages' }).getByText('and now?').waitFor({ timeout: T });
  await D2.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: /Vic Other/ }).waitFor({ timeout: T });
  cons[2].allowed.length = 0;
});

await scenario('two_devices_no_console_errors', [], async () => {
  const errs = cons.flatMap((c) => c.errors);
  expect(!errs.length, `console errors:\n${errs.join('\n')}`);
});

await browser.close();
