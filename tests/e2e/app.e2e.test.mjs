// FluxStore Desktop end to end, through its real window: keys, a signed payment arriving at
// the app's relay, a refund listed with its Dashboard link, links into Stripe for both modes
// and a refused address, a payment that is not a FluxStore order, a rejected delivery
// explained, and an offline restart.
//
// Run by scripts/e2e (which builds the app, starts Xvfb, a private D-Bus session with an
// unlocked gnome-keyring, and the local Stripe fake). Needs FLUXSTORE_STRIPE_API_BASE and
// FLUXSTORE_E2E_SECRET_KEY (a key the fake accepts) from that script.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { urlRecorder } from './connect-stack.mjs';
import {
  checkoutCompleted, deliver, freshDataDir, go, openApp, screenshot, startDriver,
} from './harness.mjs';

const apiBase = process.env.FLUXSTORE_STRIPE_API_BASE;
const secretKey = process.env.FLUXSTORE_E2E_SECRET_KEY ?? 'sk_test_51E2eFluxStoreLocalFake000';
const whsec = 'whsec_e2e0123456789abcdef0123456789abcdef';
// The fake's own checkout event for an order it knows (so the refund can go through it);
// without the fake, a crafted one (then the refund test reports Stripe's "no such" error).
const checkout = process.env.FLUXSTORE_E2E_CHECKOUT_EVENT
  ? JSON.parse(process.env.FLUXSTORE_E2E_CHECKOUT_EVENT)
  : checkoutCompleted({ session: `cs_test_e2e${Date.now()}`, paymentIntent: `pi_e2e${Date.now()}`, amount: 2500, currency: 'usd', email: 'buyer@example.com' });
const session = checkout.data.object.id;

const dataDir = freshDataDir();
// The system browser: records each address the app asks it to open.
const recorder = urlRecorder();
let driver, app, relayUrl;

before(async () => {
  driver = await startDriver({ ...(apiBase ? { FLUXSTORE_STRIPE_API_BASE: apiBase } : {}), ...recorder.env });
  app = await openApp(driver, dataDir);
});
after(async () => {
  await app?.deleteSession().catch(() => {});
  await driver?.stop();
  recorder.remove();
});

/** A command of the real shell, called as the window calls it: `{ ok }` or `{ err }`. */
function invoke(command, args) {
  return app.executeAsync((c, a, done) => {
    window.__TAURI_INTERNALS__.invoke(c, a === null ? {} : { args: a }).then(
      (ok) => done({ ok: ok ?? null }),
      (err) => done({ err }),
    );
  }, command, args);
}

/** Wait until the system browser was asked to open `url`. */
async function openedInBrowser(url) {
  await app.waitUntil(async () => recorder.opened().includes(url), {
    timeout: 15000,
    timeoutMsg: `the browser was not asked to open ${url}; it was asked for ${JSON.stringify(recorder.opened())}`,
  });
}

test('a fresh app opens on the checklist', async () => {
  assert.equal(await app.$('main h1').getText(), 'Get started');
  await screenshot(app, 'onboarding');
});

test('test keys are checked against the Stripe fake and kept in the keyring', async () => {
  await app.$('button=Enter API keys manually').click();
  const form = await app.$('[data-testid="keys-form-test"]');
  await form.waitForExist({ timeout: 10000 });
  await form.$('input[name="publishable"]').setValue('pk_test_51E2eFluxStoreLocalFake000');
  await form.$('input[name="secret"]').setValue(secretKey);
  await form.$('button=Save test keys').click();
  await app.$('li[data-step="credentials"][data-state="done"]').waitForExist({ timeout: 15000 });
});

test('the signing secret starts the relay on 127.0.0.1', async () => {
  // What the owner does in the Stripe Dashboard: an endpoint at the address Stripe reaches
  // (a tunnel to the relay), sending every event. The app reads it back with the key.
  if (apiBase) {
    const form = new URLSearchParams({ url: 'https://store-tunnel.example.com/api/webhooks/stripe' });
    form.append('enabled_events[]', '*');
    const made = await fetch(`${apiBase}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    assert.equal(made.status, 200, await made.text());
  }
  const setup = await app.$('[data-testid="webhook-setup"]');
  await setup.waitForExist({ timeout: 10000 });
  await setup.$('input[id^="whsec-"]').setValue(whsec);
  await setup.$('button=Save signing secret').click();
  await app.$('li[data-step="webhook"][data-state="done"]').waitForExist({ timeout: 15000 });
  // The Payment Gateways page shows where the relay receives.
  await go(app, '#/gateways', 'Payment Gateways');
  const url = await app.$('[data-testid="relay"] code');
  await url.waitForExist({ timeout: 10000 });
  relayUrl = (await url.getText()).trim();
  assert.match(relayUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/webhooks\/stripe$/);
  await screenshot(app, 'onboarding-relay');
});

test('a signed checkout.session.completed shows up as a paid order, live', async () => {
  const res = await deliver(relayUrl, checkout, whsec);
  assert.equal(res.status, 200, res.body);
  await go(app, '#/orders', 'Orders');
  const row = await app.$(`tr[data-session="${session}"]`);
  await row.waitForExist({ timeout: 10000 });
  await row.$('[data-status="paid"]').waitForExist({ timeout: 10000 });
  assert.match(await row.getText(), /\$\s*25\.00/);
  await screenshot(app, 'orders');
});

test('the order can be refunded in part from its page, and the refund is listed', async () => {
  await go(app, `#/orders/${session}`, session);
  await screenshot(app, 'order-detail');
  const refund = await app.$('[data-testid="refund"]');
  await refund.waitForExist({ timeout: 10000 });
  await refund.$('input[name="refund-kind"][value="partial"]').click();
  await refund.$('#refund-amount').setValue('10');
  await refund.$('button=Refund…').click();
  const confirm = await app.$('dialog[open] button.danger');
  await confirm.waitForExist({ timeout: 10000 });
  assert.match(await confirm.getText(), /10\.00/);
  await screenshot(app, 'refund-confirm');
  await confirm.click();
  await app.$('[data-status="partially_refunded"]').waitForExist({ timeout: 20000 });
  // The refund is listed with its status and opens on its Dashboard page (test mode).
  const listed = await app.$('[data-testid="refunds"] tbody tr');
  await listed.waitForExist({ timeout: 20000 });
  assert.match(await listed.getText(), /10\.00[\s\S]*Succeeded/);
  const re = await listed.getAttribute('data-refund-id');
  assert.match(re, /^re_/);
  await listed.$(`button[data-dashboard-id="${re}"]`).click();
  await openedInBrowser(`https://dashboard.stripe.com/test/refunds/${re}`);
});

test('"Look it up on Stripe" reports a refund made in the Dashboard and heals the order', async (t) => {
  if (!apiBase) return t.skip('needs the Stripe fake');
  // The owner refunds the rest in Stripe's Dashboard; no event reaches the app.
  const pi = checkout.data.object.payment_intent;
  const made = await fetch(`${apiBase}/v1/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_intent: pi }),
  });
  assert.equal(made.status, 200, await made.text());
  const lookup = await app.$('[data-testid="lookup"]');
  await lookup.$('button=Look it up on Stripe').click();
  const differences = await app.$('[data-testid="lookup-differences"]');
  await differences.waitForExist({ timeout: 20000 });
  assert.match(await differences.getText(), /Stripe has refunded 25\.00 USD of this order; this app knew of 10\.00 USD/);
  await app.$('[data-testid="lookup-healed"]').waitForExist({ timeout: 20000 });
  await app.$('[data-status="refunded"]').waitForExist({ timeout: 20000 });
  // The Dashboard's refund counts; the list says it holds only the app's refund.
  const unlisted = await app.$('[data-testid="refunds-unlisted"]');
  await unlisted.waitForExist({ timeout: 20000 });
  assert.match(await unlisted.getText(), /15\.00 more refunded than the refunds listed here/);
  await screenshot(app, 'order-refunded');
});

test('links open the Dashboard page of their mode, and any other address is refused', async () => {
  const pi = checkout.data.object.payment_intent;
  await go(app, `#/orders/${session}`, session);
  const payment = await app.$(`[data-testid="payment-ids"] button[data-dashboard-id="${pi}"]`);
  await payment.waitForExist({ timeout: 10000 });
  await payment.click();
  await openedInBrowser(`https://dashboard.stripe.com/test/payments/${pi}`);
  // The same rule in live mode: no /test in the address.
  const live = await invoke('open_dashboard', { mode: 'live', id: 'cus_E2eLiveCustomer' });
  assert.deepEqual(live, { ok: 'https://dashboard.stripe.com/customers/cus_E2eLiveCustomer' });
  await openedInBrowser('https://dashboard.stripe.com/customers/cus_E2eLiveCustomer');
  const before = recorder.opened().length;
  const refused = await invoke('open_url', { url: 'https://dashboard.stripe.com.evil.example/pay' });
  assert.equal(refused.err?.code, 'refused', JSON.stringify(refused));
  assert.match(refused.err.message, /dashboard\.stripe\.com/);
  assert.equal(recorder.opened().length, before, 'nothing was opened');
});

test('a payment that is not a FluxStore order is no order, only counted, and is refused', async () => {
  // Another shop's payment on the account: a PaymentIntent with no Checkout Session, older
  // than the wait for a session.
  const t = Math.floor(Date.now() / 1000);
  const pi = `pi_e2eforeign${t}`;
  const event = {
    id: `evt_e2eforeign${t}`, object: 'event', api_version: '2026-07-29.dahlia', created: t - 3 * 86400,
    livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type: 'payment_intent.succeeded',
    data: { object: {
      id: pi, object: 'payment_intent', amount: 4200, amount_received: 4200, currency: 'usd', created: t - 3 * 86400,
      customer: null, latest_charge: null, livemode: false, metadata: {}, receipt_email: 'pos@example.com', status: 'succeeded',
    } },
  };
  const res = await deliver(relayUrl, event, whsec);
  assert.equal(res.status, 200, res.body);
  await go(app, '#/orders', 'Orders');
  // Read from the page each time: the note re-renders as events arrive.
  const text = (selector) => app.execute((q) => document.querySelector(q)?.textContent ?? '', selector);
  await app.waitUntil(async () => /1 payment not made through your FluxStore checkout/.test(await text('[data-testid="other-activity"]')), {
    timeout: 15000,
    timeoutMsg: 'the payment is not counted as other activity',
  });
  assert.doesNotMatch(await text('main'), /pos@example\.com|42\.00/);
  const refund = await invoke('refund_order', { mode: 'test', session_id: pi, amount: null, reason: null });
  assert.equal(refund.err?.code, 'not_found', JSON.stringify(refund));
  const lookup = await invoke('lookup_order', { mode: 'test', session_id: pi });
  assert.equal(lookup.err?.code, 'not_found', JSON.stringify(lookup));
  // No call to Stripe was made for it: the activity log names no request about it.
  const calls = await invoke('list_api_calls', { limit: 500 });
  assert.ok(calls.ok.every((c) => c.object_id !== pi && !c.path.includes(pi)), JSON.stringify(calls.ok));
});

test('a delivery signed with another secret is explained on the Gateways page', async () => {
  const event = checkoutCompleted({ session: `${session}x`, paymentIntent: 'pi_notours', amount: 100, currency: 'usd', email: 'x@example.com' });
  const res = await deliver(relayUrl, event, 'whsec_notthisendpoint000000000000000');
  assert.equal(res.status, 400);
  // The relay counts a refusal at once and writes the tally with its next batch, at most
  // half a second later; the page reads it when opened.
  const list = await app.$('[data-testid="rejections"]');
  await app.waitUntil(async () => {
    await go(app, '#/orders', 'Orders');
    await go(app, '#/gateways', 'Payment Gateways');
    return list.isExisting();
  }, { timeout: 15000, interval: 500, timeoutMsg: 'the refused delivery is not shown on Payment Gateways' });
  assert.match(await list.getText(), /signature/i);
  await screenshot(app, 'gateways');
});

test('the other views render', async () => {
  for (const [hash, heading, name] of [
    ['#/disputes', 'Disputes', 'disputes'],
    ['#/subscriptions', 'Subscriptions', 'subscriptions'],
    ['#/activity', 'Activity', 'activity'],
  ]) {
    await go(app, hash, heading);
    await screenshot(app, name);
  }
});

test('restarted offline, the app still shows the orders, what was bought and the refunds', async () => {
  await app.deleteSession();
  app = null;
  await driver.stop();
  // Nothing listens on port 9 of 127.0.0.1: every Stripe call fails as "offline".
  driver = await startDriver({ FLUXSTORE_STRIPE_API_BASE: 'http://127.0.0.1:9' });
  app = await openApp(driver, dataDir);
  await go(app, '#/orders', 'Orders');
  const row = await app.$(`tr[data-session="${session}"]`);
  await row.waitForExist({ timeout: 10000 });
  await row.$('[data-status="refunded"]').waitForExist({ timeout: 10000 });
  // The start-up sync fails to reach Stripe, and the window says so.
  await app.$('[data-testid="online"].off').waitForExist({ timeout: 20000 });
  await screenshot(app, 'orders-offline');
  // Opened online once, the order still shows what was bought and its checkout metadata,
  // and its refunds.
  await go(app, `#/orders/${session}`, session);
  const items = await app.$('[data-testid="line-items"]');
  await items.waitForExist({ timeout: 10000 });
  assert.ok((await app.$$('[data-testid="line-items"] tbody tr')).length > 0);
  assert.match(await app.$('[data-testid="metadata"]').getText(), /\S/);
  await app.$('[data-testid="refunds"] tbody tr').waitForExist({ timeout: 10000 });
});
