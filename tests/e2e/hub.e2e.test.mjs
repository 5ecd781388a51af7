// The live feed through the FluxStore hub, in the real window: the app is connected through
// Connect to a local `fluxstore-hub` (its Connect broker on, its doorbells in an embedded
// SQLite file); a buyer pays at the connected account, Stripe delivers the events as a signed
// Connect webhook to the hub's POST /api/webhooks/stripe, the hub rings the app's feed, the app
// fetches each event from Stripe with its own token, and the order turns paid on screen — long
// before the 2-minute events poll could have brought it.
//
// Around the app: the hub fake (src-tauri/examples/hub_fake.rs: one Stripe — Connect OAuth and
// the connected account's API, an issued token being a key of that API at once — which also
// delivers the webhooks) and the real hub. Run by scripts/e2e, which builds both and provides
// the private D-Bus session with an unlocked keyring (where the Connect token goes).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDataDir, go, openApp, root, screenshot, startDriver, waitForGone, waitForPort } from './harness.mjs';
import { follow, freePort, lineReader, stopChild, urlRecorder } from './connect-stack.mjs';

const fakeBinary = process.env.FLUXSTORE_E2E_HUB_FAKE ?? path.join(root, 'target/debug/examples/hub-fake');
const hubBinary = process.env.FLUXSTORE_E2E_HUB_BIN ?? path.join(root, 'target/debug/fluxstore-hub');

/** The events poll the app falls back to (the feed's POLL): what "without waiting" beats. */
const POLL_MS = 120_000;

let fake, line, hub, hubUrl, hubDir, oauthBase, apiBase, accountId;
let driver, app, recorder, dataDir;

const el = (testid) => app.$(`[data-testid="${testid}"]`);

/** Tell the hub fake `command` and read its one-line answer. */
async function ask(command) {
  fake.stdin.write(`${command}\n`);
  return line(20000);
}

before(async () => {
  fake = spawn(fakeBinary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  line = lineReader(fake, 'the hub fake');
  oauthBase = await line(30000);
  apiBase = await line(5000);
  const clientId = await line(5000);
  accountId = await line(5000);
  const testKeyFile = await line(5000);
  const liveKeyFile = await line(5000);

  hubDir = mkdtempSync(path.join(tmpdir(), 'fluxstore-e2e-hub-'));
  // The hub prints no address before it binds, so it gets a port known to be free just before.
  const port = await freePort();
  hubUrl = `http://127.0.0.1:${port}`;
  // The platform adds its Connect webhook endpoint at the hub; its signing secret comes back in
  // a file, which is how the hub reads it.
  const answer = await ask(`endpoint ${hubUrl}/api/webhooks/stripe`);
  const secretFile = answer.replace(/^endpoint /, '');
  assert.notEqual(secretFile, answer, `the hub fake answered ${JSON.stringify(answer)}`);
  hub = spawn(hubBinary, [
    '--listen', `127.0.0.1:${port}`,
    '--public-url', hubUrl,
    '--webhook-secret-file', secretFile,
    '--database-url', `sqlite:${path.join(hubDir, 'hub.db')}`,
    '--stripe-api-base', oauthBase,
    '--stripe-connect-base', oauthBase,
    '--client-id', clientId,
    '--platform-key-file', testKeyFile,
    '--platform-key-file', liveKeyFile,
  ], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
  await waitForPort(port, 15000);
  const health = await fetch(`${hubUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(health.status, 200);

  recorder = urlRecorder();
  dataDir = freshDataDir();
  // Every Stripe API call of the app (events, the account's status) goes to the account's API.
  driver = await startDriver({ FLUXSTORE_STRIPE_API_BASE: apiBase, ...recorder.env });
  app = await openApp(driver, dataDir);
});

after(async () => {
  await app?.deleteSession().catch(() => {});
  await driver?.stop();
  await stopChild(hub, () => hub.kill('SIGTERM'));
  await stopChild(fake, () => fake.stdin.end());
  recorder?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (hubDir) rmSync(hubDir, { recursive: true, force: true });
});

test('connected through the hub, test mode follows it live', async () => {
  // The hub is the Connect service: its address saved through Payment Gateways.
  await go(app, '#/gateways', 'Payment Gateways');
  const input = await el('connect-service-input');
  await input.waitForExist({ timeout: 10000 });
  await input.setValue(hubUrl);
  await el('connect-service-save').click();
  await app.waitUntil(
    async () => (await el('connect-service-source').getAttribute('data-source')) === 'setting',
    { timeout: 10000, timeoutMsg: 'the Connect service address was not saved' },
  );

  await go(app, '#/onboarding', 'Get started');
  await app.$('button=Connect with Stripe (recommended)').click();
  const start = await el('connect-start-test');
  await start.waitForEnabled({ timeout: 10000 });
  await start.click();
  const opened = await recorder.first(15000);
  assert.equal(new URL(opened).origin, hubUrl);
  const landed = await follow(opened);
  assert.equal(landed.status, 200, landed.body);
  assert.match(landed.body, /Connected to Stripe/);
  await waitForGone(app, '[data-testid="connect-waiting"]', 20000, 'the waiting state did not end');

  await go(app, '#/gateways', 'Payment Gateways');
  const panel = await el('mode-connection-test');
  await panel.$('[data-testid="connection-state"] .pill.ok').waitForExist({
    timeout: 15000,
    timeoutMsg: 'test mode is not shown as connected',
  });
  assert.match(await panel.getText(), new RegExp(accountId));
  await app.waitUntil(
    async () => (await el('hub-feed-state').getAttribute('data-state')) === 'live',
    { timeout: 30000, timeoutMsg: 'the Live updates panel does not say live through the hub' },
  );
  assert.match(await el('hub-feed-state').getText(), /Live through the FluxStore hub/);
  assert.equal(new URL(await el('hub-url').getText()).origin, hubUrl);
  assert.match(await el('hub-feed-last').getText(), /No doorbell since the app started/);
});

test('a payment at Stripe rings through the hub and the order turns paid without waiting for a poll', async () => {
  const started = Date.now();
  const answer = await ask('pay');
  const [word, session, statuses] = answer.split(' ');
  assert.equal(word, 'paid', answer);
  // checkout.session.completed, payment_intent.succeeded, charge.succeeded: each accepted by
  // the hub (200 only once its doorbell is durable).
  assert.deepEqual(statuses.split(','), ['200', '200', '200'], answer);

  await go(app, '#/orders', 'Orders');
  const row = await app.$(`tr[data-session="${session}"]`);
  // Bounded well inside the poll: only the hub's doorbell can bring the order this soon.
  await row.waitForExist({ timeout: 30000, timeoutMsg: 'the order did not appear through the hub' });
  await row.$('[data-status="paid"]').waitForExist({ timeout: 10000 });
  const took = Date.now() - started;
  assert.ok(took < POLL_MS / 4, `the order took ${took} ms, not clearly sooner than the ${POLL_MS} ms poll`);
  assert.match(await row.getText(), /\$\s*25\.00/);
  await screenshot(app, 'hub-order-paid');

  await go(app, '#/gateways', 'Payment Gateways');
  await app.waitUntil(async () => /Last doorbell/.test(await el('hub-feed-last').getText()), {
    timeout: 10000,
    timeoutMsg: 'the Live updates panel shows no last doorbell',
  });
  const last = await el('hub-feed-last').getText();
  assert.match(last, /after the hub received it/);
  assert.match(last, /\b[1-9]\d* since the app started/);
  assert.equal(await el('hub-feed-state').getAttribute('data-state'), 'live');
  // The Live updates panel in the picture (it is below the connection panels).
  await app.execute(() => document.querySelector('[data-testid="hub-feed"]').scrollIntoView({ block: 'start' }));
  await app.waitUntil(
    () => app.execute(() => {
      const top = document.querySelector('[data-testid="hub-feed"]').getBoundingClientRect().top;
      return top >= 0 && top < window.innerHeight / 2;
    }),
    { timeout: 5000, timeoutMsg: 'the Live updates panel did not scroll into view' },
  );
  await screenshot(app, 'hub-live-updates');
});
