// Connect sign-ins through the real window: every way a sign-in ends — approved, denied at
// Stripe, timed out, cancelled — ends the waiting state, and the window says how it ended.
//
// Around the app: the Connect fake (Stripe's OAuth side and GET /v1/account) and the real
// FluxStore Connect service in front of it (connect-stack.mjs). The app opens the authorize URL
// with the system opener; a URL handler registered for http/https records it, and an HTTP
// client that follows redirects plays the owner's browser. Each test has a fresh data dir and
// its own app. Run by scripts/e2e (which builds the fake and the service and provides the
// private D-Bus session with an unlocked keyring, where the tokens go).
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDataDir, go, openApp, screenshot, startDriver, waitForGone, waitForQuery } from './harness.mjs';
import { follow, startConnectStack, urlRecorder } from './connect-stack.mjs';

let stack;

before(async () => {
  stack = await startConnectStack();
});
after(async () => {
  await stack?.stop();
});

/** A fresh app whose environment is `env` plus the URL recorder; `run` gets it, then it stops. */
async function withApp(env, run) {
  const recorder = urlRecorder();
  const dataDir = freshDataDir();
  let driver, app;
  try {
    // The Stripe API calls after connecting (the account's status) go to the fake as well.
    driver = await startDriver({ FLUXSTORE_STRIPE_API_BASE: stack.fakeBase, ...recorder.env, ...env });
    app = await openApp(driver, dataDir);
    await run(app, recorder);
  } finally {
    await app?.deleteSession().catch(() => {});
    await driver?.stop();
    recorder.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const el = (app, testid) => app.$(`[data-testid="${testid}"]`);

/** On Get started: choose Connect, click "Connect test account", wait for the waiting state. */
async function startTestSignIn(app) {
  await go(app, '#/onboarding', 'Get started');
  await app.$('button=Connect with Stripe (recommended)').click();
  const start = await el(app, 'connect-start-test');
  await start.waitForEnabled({ timeout: 10000 });
  await start.click();
  await el(app, 'connect-waiting').waitForExist({ timeout: 10000 });
  const shown = await el(app, 'connect-authorize-url');
  await shown.waitForExist({ timeout: 10000 });
  return (await shown.getText()).trim();
}

async function waitingEnds(app, ms) {
  await waitForGone(app, '[data-testid="connect-waiting"]', ms, `the waiting state did not end within ${ms} ms`);
}

/** The test mode's sign-in error, once shown: its code and its text. */
async function testModeError(app) {
  const error = await waitForQuery(app, '[data-testid="connect-error"][data-mode="test"]', 10000);
  return { code: error.data.code, text: error.text };
}

test('approved at Stripe: the wait ends and test mode shows the account and its status', async () => {
  await withApp({}, async (app, recorder) => {
    // The Connect service address set through its field on Payment Gateways.
    await go(app, '#/gateways', 'Payment Gateways');
    const input = await el(app, 'connect-service-input');
    await input.waitForExist({ timeout: 10000 });
    await input.setValue(stack.serviceUrl);
    await el(app, 'connect-service-save').click();
    await app.waitUntil(
      async () => (await el(app, 'connect-service-source').getAttribute('data-source')) === 'setting',
      { timeout: 10000, timeoutMsg: 'the Connect service address was not saved' },
    );
    assert.equal(new URL(await el(app, 'connect-service-url').getText()).origin, stack.serviceUrl);

    const shown = await startTestSignIn(app);
    const opened = await recorder.first(15000);
    assert.equal(opened, shown, 'the browser was asked to open the address the window shows');
    const authorize = new URL(opened);
    assert.equal(authorize.origin, stack.serviceUrl);
    assert.equal(authorize.searchParams.get('mode'), 'test');

    // The browser: service → Stripe's authorize page (approves) → service → the app's loopback.
    const landed = await follow(opened);
    assert.equal(landed.status, 200, landed.body);
    assert.equal(new URL(landed.url).hostname, '127.0.0.1');
    assert.match(landed.body, /Connected to Stripe/);

    await waitingEnds(app, 20000);
    await go(app, '#/gateways', 'Payment Gateways');
    const panel = await el(app, 'mode-connection-test');
    await panel.$('[data-testid="connection-state"] .pill.ok').waitForExist({
      timeout: 15000,
      timeoutMsg: 'test mode is not shown as connected',
    });
    assert.match(await panel.$('[data-testid="connection-state"]').getText(), /Connected\s+with Stripe Connect/);
    assert.match(await panel.getText(), new RegExp(stack.accountId));
    const status = await el(app, 'account-status-test');
    await app.waitUntil(async () => (await status.getAttribute('data-ready')) === 'true', {
      timeout: 15000,
      timeoutMsg: 'the account status was not shown after connecting',
    });
    assert.equal((await status.$('[data-testid="charges"]').getText()).trim(), 'Enabled');
    assert.equal((await status.$('[data-testid="payouts"]').getText()).trim(), 'Enabled');
    // The other mode is untouched.
    assert.match(await el(app, 'mode-connection-live').$('[data-testid="connection-state"]').getText(), /Not connected/);
    await screenshot(app, 'connect-approved');
  });
});

test('denied at Stripe: the wait ends with what happened and what to do', async () => {
  await stack.decide('deny');
  try {
    // The Connect service address from the app's environment this time.
    await withApp({ FLUXSTORE_CONNECT_SERVICE: stack.serviceUrl }, async (app, recorder) => {
      await go(app, '#/gateways', 'Payment Gateways');
      await app.waitUntil(
        async () => (await el(app, 'connect-service-source').getAttribute('data-source')) === 'environment',
        { timeout: 10000, timeoutMsg: 'FLUXSTORE_CONNECT_SERVICE was not used' },
      );
      await startTestSignIn(app);
      const landed = await follow(await recorder.first(15000));
      assert.match(landed.body, /Not connected/);

      await waitingEnds(app, 20000);
      const error = await testModeError(app);
      assert.equal(error.code, 'access_denied');
      assert.match(error.text, /Stripe did not connect the account/);
      assert.match(error.text, /Click Connect again/);
      await screenshot(app, 'connect-denied');
      // Payment Gateways says the same, and nothing was connected.
      await go(app, '#/gateways', 'Payment Gateways');
      const panel = await el(app, 'mode-connection-test');
      await panel.waitForExist({ timeout: 10000 });
      assert.match(await panel.$('[data-testid="connection-state"]').getText(), /Not connected/);
      assert.equal((await testModeError(app)).code, 'access_denied');
    });
  } finally {
    await stack.decide('approve');
  }
});

test('nobody answers in the browser: the wait times out with a message', async () => {
  const env = { FLUXSTORE_CONNECT_SERVICE: stack.serviceUrl, FLUXSTORE_CONNECT_TIMEOUT_SECS: '3' };
  await withApp(env, async (app, recorder) => {
    await startTestSignIn(app);
    await recorder.first(15000);
    // Nothing follows the URL: the app's own deadline (3 s) ends the wait.
    await waitingEnds(app, 30000);
    const error = await testModeError(app);
    assert.equal(error.code, 'timed_out');
    assert.match(error.text, /not finished within/);
    assert.match(error.text, /Click Connect again/);
    await screenshot(app, 'connect-timed-out');
  });
});

test('Cancel ends the wait', async () => {
  await withApp({ FLUXSTORE_CONNECT_SERVICE: stack.serviceUrl }, async (app) => {
    await startTestSignIn(app);
    // The whole waiting block (URL to copy, Cancel) in the picture.
    await app.execute(() => document.querySelector('[data-testid="connect-cancel"]').scrollIntoView({ block: 'center' }));
    await screenshot(app, 'connect-waiting');
    await el(app, 'connect-cancel').click();
    await waitingEnds(app, 15000);
    const error = await testModeError(app);
    assert.equal(error.code, 'cancelled');
    assert.match(error.text, /cancelled/);
    await screenshot(app, 'connect-cancelled');
  });
});
