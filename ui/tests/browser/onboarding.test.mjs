// The onboarding checklist in real Chromium, driven through its transitions with the
// in-memory backend: choose keys → enter keys → webhook → receiving → test payment ticks →
// charges/payouts → go live. The Connect path is in connect.test.mjs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, screenshot, simulate, startBrowser, startServer } from './harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await startBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const step = (page, id) => page.locator(`li[data-step="${id}"]`);
const stateOf = (page, id) => step(page, id).getAttribute('data-state');

async function waitState(page, id, want) {
  await page.locator(`li[data-step="${id}"][data-state="${want}"]`).waitFor();
  assert.equal(await stateOf(page, id), want);
}

test('checklist walks from nothing to a paid test order and a live order', async () => {
  const { page, problems } = await openApp(browser.context, server.url);
  assert.equal(await page.locator('main h1').textContent(), 'Get started');
  await waitState(page, 'method', 'todo');
  assert.equal(await stateOf(page, 'credentials'), 'blocked');
  assert.match(await step(page, 'method').textContent(), /Stripe Connect \(recommended\) or manual API keys/);
  await screenshot(page, 'onboarding-start');

  // 1. choose manual keys
  await page.getByRole('button', { name: 'Enter API keys manually' }).click();
  await waitState(page, 'method', 'done');
  await waitState(page, 'credentials', 'todo');
  assert.match(await step(page, 'credentials').textContent(), /No keys saved yet/);

  // 2. enter keys: the backend's validation error is shown, then valid keys tick the step
  const form = page.getByTestId('keys-form-test');
  await form.getByLabel('Publishable key').fill('sk_test_51AbCdEfGhIjKlMnOpQrStUv');
  await form.getByLabel('Secret key (or restricted key)').fill('pk_test_51AbCdEfGhIjKlMnOpQrStUv');
  await form.getByRole('button', { name: 'Save test keys' }).click();
  await form.getByRole('alert').waitFor();
  assert.match(await form.getByRole('alert').textContent(), /secret key in the publishable key field/);
  await form.getByLabel('Publishable key').fill('pk_test_51AbCdEfGhIjKlMnOpQrStUv');
  await form.getByLabel('Secret key (or restricted key)').fill('pk_live_51AbCdEfGhIjKlMnOpQrStUv');
  await form.getByRole('button', { name: 'Save test keys' }).click();
  await page.getByText('That is a publishable key in the secret key field').waitFor();
  await form.getByLabel('Secret key (or restricted key)').fill('  sk_test_51AbCdEfGhIjKlMnOpQrStUv  ');
  await form.getByRole('button', { name: 'Save test keys' }).click();
  await waitState(page, 'credentials', 'done');
  await waitState(page, 'webhook', 'todo');
  assert.match(await step(page, 'webhook').textContent(), /deliveries cannot be verified until it is/);

  // A delivery before the secret exists is rejected, and the receiving step says why.
  assert.equal(await simulate(page, 'simulatePayment', 'test'), null);
  await page.locator('li[data-step="receiving"]', { hasText: 'No signing secret is saved' }).waitFor();

  // 3. webhook: 12 events with copy buttons, the secret validated then saved
  const setup = page.getByTestId('webhook-setup');
  assert.equal(await setup.locator('tbody tr').count(), 12);
  assert.match(await setup.textContent(), /checkout\.session\.completed/);
  assert.match(await setup.textContent(), /invoice\.payment_failed/);
  await setup.getByRole('button', { name: /^Copy all/ }).click();
  await setup.getByText('Copied').first().waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied.split('\n').length, 12);
  assert.equal(copied.split('\n')[0], 'checkout.session.completed');
  assert.match(await setup.textContent(), /fluxstore serve/);
  await setup.getByLabel('Signing secret').fill('sk_test_51AbCdEfGhIjKlMnOpQrStUv');
  await setup.getByRole('button', { name: 'Save signing secret' }).click();
  await page.getByText('That is an API secret key, not a webhook signing secret').waitFor();
  await setup.getByLabel('Signing secret').fill('whsec_0123456789abcdef0123456789abcdef');
  await setup.getByRole('button', { name: 'Save signing secret' }).click();
  // Stripe is asked about its endpoints: none yet, and the step says so.
  await page.locator('li[data-step="webhook"]', { hasText: 'has no webhook endpoint' }).waitFor();
  assert.equal((await step(page, 'webhook').getAttribute('data-state')), 'todo');
  // The owner adds it in the Dashboard without one event: the step names it.
  const twelve = await page.evaluate(() => window.__fluxstoreMemory.addWebhookEndpoint('test', 'https://relay.shop.example/api/webhooks/stripe',
    ['checkout.session.completed', 'payment_intent.succeeded', 'payment_intent.payment_failed', 'charge.succeeded', 'charge.dispute.created',
      'charge.dispute.updated', 'charge.dispute.closed', 'customer.subscription.created', 'customer.subscription.updated',
      'customer.subscription.deleted', 'invoice.paid']));
  await page.getByTestId('webhook-check-again').click();
  await page.locator('li[data-step="webhook"]', { hasText: 'does not send invoice.payment_failed' }).waitFor();
  assert.match(twelve, /^we_/);
  await simulate(page, 'addWebhookEndpoint', 'test', 'https://relay.shop.example/api/webhooks/stripe');
  await page.getByTestId('webhook-check-again').click();
  await waitState(page, 'webhook', 'done');
  assert.match(await step(page, 'webhook').textContent(), /Stripe sends all 12 events to https:\/\/relay\.shop\.example/);
  await waitState(page, 'receiving', 'todo');
  assert.match(await step(page, 'receiving').textContent(), /No verified event has arrived yet/);

  // 4. receiving: a verified event arrives (pushed by the backend, no reload)
  await simulate(page, 'simulateVerifiedEvent', 'test');
  await waitState(page, 'receiving', 'done');
  assert.match(await step(page, 'receiving').textContent(), /Last verified event/);

  // 5. test payment with 4242…: ticks when the mirror shows the order paid
  await waitState(page, 'test_payment', 'todo');
  assert.match(await step(page, 'test_payment').textContent(), /4242 4242 4242 4242/);
  await screenshot(page, 'onboarding-waiting-for-payment');
  const session = await simulate(page, 'simulatePayment', 'test');
  assert.ok(session?.startsWith('cs_test_'));
  await waitState(page, 'test_payment', 'done');
  assert.match(await step(page, 'test_payment').textContent(), new RegExp(session));

  // 6. charges and payouts: requirements and the onboarding link, then enabled
  await waitState(page, 'account', 'todo');
  assert.match(await step(page, 'account').textContent(), /Payouts are not enabled yet. Stripe still needs a bank account for payouts/);
  assert.match(await step(page, 'account').textContent(), /dashboard\.stripe\.com\/account\/onboarding/);
  await step(page, 'account').getByRole('button', { name: 'Finish Stripe onboarding' }).click();
  const opened = await page.evaluate(() => window.__fluxstoreMemory.openedUrls);
  assert.deepEqual(opened, ['https://dashboard.stripe.com/account/onboarding']);
  await simulate(page, 'completeAccountOnboarding', 'test');
  await waitState(page, 'account', 'done');

  // 7. go live: live keys, then the smallest real order
  await waitState(page, 'go_live', 'todo');
  const live = page.getByTestId('keys-form-live');
  await live.getByLabel('Publishable key').fill('pk_live_51AbCdEfGhIjKlMnOpQrStUv');
  await live.getByLabel('Secret key (or restricted key)').fill('rk_live_51AbCdEfGhIjKlMnOpQrStUv');
  await live.getByRole('button', { name: 'Save live keys' }).click();
  await page.locator('li[data-step="go_live"]', { hasText: 'its own webhook endpoint' }).waitFor();
  await step(page, 'go_live').getByLabel('Signing secret').fill('whsec_live0123456789abcdef0123456789');
  await step(page, 'go_live').getByRole('button', { name: 'Save signing secret' }).click();
  await page.locator('li[data-step="go_live"]', { hasText: 'smallest package' }).waitFor();
  // The live endpoint is the live account's own: Stripe is asked, and it exists once added.
  await page.locator('li[data-step="webhook"]', { hasText: 'live Stripe account has no webhook endpoint' }).waitFor();
  await simulate(page, 'addWebhookEndpoint', 'live', 'https://relay.shop.example/api/webhooks/stripe');
  await page.getByTestId('webhook-check-again').click();
  await waitState(page, 'webhook', 'done');
  await simulate(page, 'simulatePayment', 'live', 100, 'usd');
  await waitState(page, 'go_live', 'done');
  // Live keys read the live account, which Stripe has not verified yet: the step says so.
  await waitState(page, 'account', 'todo');
  await simulate(page, 'completeAccountOnboarding', 'live');
  await waitState(page, 'account', 'done');
  await page.getByRole('link', { name: 'Open the live order to refund it' }).waitFor();
  assert.match(await page.getByTestId('progress').textContent(), /All set/);
  await screenshot(page, 'onboarding-done');
  assert.deepEqual(problems, []);
});

test('Explore with a sample store opens a separate store, and leaving it restores the empty one', async () => {
  const { page, problems } = await openApp(browser.context, server.url);
  await page.getByTestId('explore-sample').click();
  await page.getByTestId('sample-badge').waitFor();
  await page.getByTestId('orders').waitFor();
  assert.match(page.url(), /#\/orders$/);
  assert.ok((await page.locator('[data-testid="orders"] tbody tr').count()) > 10);
  await page.getByRole('button', { name: 'Leave sample store' }).click();
  await page.locator('li[data-step="method"][data-state="todo"]').waitFor();
  await page.getByRole('link', { name: 'Orders' }).click();
  await page.getByText('No test orders yet').waitFor();
  assert.deepEqual(problems, []);
});

test('offline: connecting is disabled and says why', async () => {
  const { page, problems } = await openApp(browser.context, server.url);
  await page.getByRole('button', { name: 'Connect with Stripe (recommended)' }).click();
  await simulate(page, 'setOnline', false);
  await page.getByText('Connecting needs the internet; you are offline.').first().waitFor();
  assert.ok(await page.getByTestId('connect-start-test').isDisabled());
  assert.ok(await page.getByTestId('connect-start-live').isDisabled());
  await simulate(page, 'setOnline', true);
  await page.getByTestId('connect-start-test').waitFor({ state: 'visible' });
  assert.ok(await page.getByTestId('connect-start-test').isEnabled());
  assert.deepEqual(problems, []);
});
