// Connect per mode in real Chromium with the in-memory backend playing the owner's browser:
// test then live with each account's status, a denied sign-in, Cancel, the Connect service
// address, a deauthorized mode, and disconnecting one mode.
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
const waitState = (page, id, want) => page.locator(`li[data-step="${id}"][data-state="${want}"]`).waitFor();
const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

/** Open a fresh store with Connect chosen in onboarding. */
async function connectChosen() {
  const app = await openApp(browser.context, server.url);
  await app.page.getByRole('button', { name: 'Connect with Stripe (recommended)' }).click();
  await waitState(app.page, 'credentials', 'todo');
  return app;
}

/** Click the mode's Connect button and let the "browser" approve. */
async function connectMode(page, mode) {
  await page.getByTestId(`connect-start-${mode}`).click();
  await page.getByTestId('connect-authorize-url').waitFor();
  await simulate(page, 'approveSignIn');
  await page.getByTestId('connect-waiting').waitFor({ state: 'detached' });
}

test('Connect test then live: waiting state, each account with its status, updates from account.updated', async () => {
  const { page, problems } = await connectChosen();
  assert.match(await step(page, 'credentials').textContent(), /No keys to copy, no webhooks to configure/);

  // Test first: the waiting block shows the authorize URL for copying and a Cancel button.
  await page.getByTestId('connect-start-test').click();
  const waiting = page.getByTestId('connect-waiting');
  await waiting.waitFor();
  assert.match(await waiting.textContent(), /Waiting for Stripe…/);
  const url = await page.getByTestId('connect-authorize-url').textContent();
  assert.match(url, /^https:\/\/api\.fluxstore\.net\/oauth\/authorize\?response_type=code&client_id=fluxstore-desktop&/);
  assert.ok(await page.getByTestId('connect-start-live').isDisabled(), 'one sign-in at a time');
  assert.ok(await page.getByTestId('connect-cancel').isEnabled());
  await screenshot(page, 'connect-waiting');
  await simulate(page, 'approveSignIn');
  await waiting.waitFor({ state: 'detached' });
  await waitState(page, 'credentials', 'done');
  assert.equal(await text(step(page, 'credentials').locator('.detail')), 'Test account connected through Stripe Connect.');
  assert.match(await step(page, 'webhook').textContent(), /Not needed with Connect/);
  // The test account's status was read right after connecting: verified.
  await waitState(page, 'account', 'done');

  // Then live, from the go-live step.
  await waitState(page, 'go_live', 'todo');
  assert.equal(await step(page, 'go_live').getByTestId('connect-start-live').count(), 1);
  await connectMode(page, 'live');
  await page.locator('li[data-step="credentials"]', { hasText: 'Test and live accounts connected through Stripe Connect.' }).waitFor();
  // Now the live account is judged, and Stripe has not verified it yet.
  await waitState(page, 'account', 'todo');
  assert.match(await step(page, 'account').textContent(), /Payouts are not enabled yet\. Stripe still needs a bank account for payouts/);

  // Payment Gateways: both connections side by side, each with its account and status.
  await page.getByRole('link', { name: 'Payment Gateways' }).click();
  const testPanel = page.getByTestId('mode-connection-test');
  const livePanel = page.getByTestId('mode-connection-live');
  await livePanel.waitFor();
  assert.equal(await page.getByTestId('method').textContent(), 'Stripe Connect');
  const [a, b] = [await testPanel.boundingBox(), await livePanel.boundingBox()];
  assert.ok(Math.abs(a.y - b.y) < 2 && b.x > a.x + a.width - 1, 'test and live side by side');
  assert.match(await text(testPanel.getByTestId('connection-state')), /Connected with Stripe Connect/);
  assert.match(await testPanel.textContent(), /acct_1FluxConnectTest — Blockhaven Game Store/);
  assert.match(await livePanel.textContent(), /acct_1FluxConnectLive/);
  const testStatus = page.getByTestId('account-status-test');
  const liveStatus = page.getByTestId('account-status-live');
  assert.equal(await text(testStatus.getByTestId('charges')), 'Enabled');
  assert.equal(await text(testStatus.getByTestId('payouts')), 'Enabled');
  assert.equal(await text(liveStatus.getByTestId('payouts')), 'Disabled');
  assert.equal(await text(liveStatus.getByTestId('details-submitted')), 'Not yet');
  const reqs = await text(liveStatus.getByTestId('requirements'));
  assert.match(reqs, /Currently due: .*a bank account for payouts external_account/);
  assert.match(reqs, /Stripe’s reason: requirements\.past_due/);
  assert.match(reqs, /dashboard\.stripe\.com\/account\/onboarding/);
  assert.match(await livePanel.textContent(), /Stripe Connect access token: stored in Secret Service/);
  // Live updates: this world has no FluxStore hub, so the Connect mode polls and says why.
  const feed = page.getByTestId('hub-feed');
  assert.equal(await feed.getByTestId('hub-feed-state').getAttribute('data-state'), 'polling');
  assert.match(await text(feed.getByTestId('hub-feed-detail')), /api\.fluxstore\.net has no live feed, so FluxStore reads Stripe.s events every 2 minutes/);
  assert.match(await text(feed.getByTestId('hub-feed-last')), /No doorbell since the app started/);
  await feed.getByTestId('sync-now').click();
  await feed.getByText('Reading Stripe’s events now.').waitFor();
  await screenshot(page, 'gateways-connect');

  // Refresh asks Stripe (an audit row); offline it is disabled and says why.
  await liveStatus.getByRole('button', { name: 'Refresh status' }).click();
  await liveStatus.getByRole('button', { name: 'Refresh status' }).waitFor();
  await simulate(page, 'setOnline', false);
  await liveStatus.getByText('Refresh needs the internet; you are offline, so this is the last known status.').waitFor();
  assert.ok(await liveStatus.getByRole('button', { name: 'Refresh status' }).isDisabled());
  await simulate(page, 'setOnline', true);

  // Stripe verifies the live account: its account.updated updates the panel without a reload.
  await simulate(page, 'completeAccountOnboarding', 'live');
  await liveStatus.locator('[data-testid="payouts"]', { hasText: 'Enabled' }).waitFor();
  await liveStatus.getByTestId('requirements').waitFor({ state: 'detached' });

  // And the checklist is all set once the first live order is paid.
  await simulate(page, 'simulatePayment', 'test');
  await simulate(page, 'simulatePayment', 'live', 100, 'usd');
  await page.getByRole('link', { name: /Get started/ }).click();
  await page.getByTestId('progress').getByText(/All set/).waitFor();
  assert.deepEqual(problems, []);
});

test('a denied sign-in shows Stripe’s message and what to do, and leaves the waiting state', async () => {
  const { page, problems } = await connectChosen();
  await page.getByTestId('connect-start-live').click();
  await page.getByTestId('connect-waiting').waitFor();
  await simulate(page, 'denySignIn');
  await page.getByTestId('connect-waiting').waitFor({ state: 'detached' });
  const error = page.getByTestId('connect-error');
  await error.waitFor();
  assert.equal(await error.getAttribute('data-mode'), 'live');
  assert.equal(await error.getAttribute('data-code'), 'access_denied');
  assert.match(await error.textContent(), /Stripe did not connect the account: The user denied your request\./);
  assert.match(await error.textContent(), /Click Connect again when you want to allow FluxStore/);
  assert.ok(await page.getByTestId('connect-start-live').isEnabled());
  assert.ok(await page.getByTestId('connect-start-test').isEnabled());
  await screenshot(page, 'connect-denied');
  // The message stays until the next attempt, which clears it.
  await page.getByTestId('connect-start-live').click();
  await page.getByTestId('connect-waiting').waitFor();
  assert.equal(await page.getByTestId('connect-error').count(), 0);
  await simulate(page, 'timeOutSignIn');
  await page.getByTestId('connect-error').getByText('The connection was not finished within 5 minutes; start it again.').waitFor();
  assert.equal(await page.getByTestId('connect-waiting').count(), 0);
  assert.equal(await step(page, 'credentials').getAttribute('data-state'), 'todo');
  assert.deepEqual(problems, []);
});

test('Cancel ends the wait once the shell confirms, and nothing is connected', async () => {
  const { page, problems } = await connectChosen();
  await page.getByTestId('connect-start-test').click();
  await page.getByTestId('connect-cancel').click();
  await page.getByTestId('connect-waiting').waitFor({ state: 'detached' });
  await page.getByTestId('connect-error').getByText('The connection was cancelled.').waitFor();
  assert.equal(await page.evaluate(() => window.__fluxstoreMemory.pendingSignIn()), null);
  assert.equal(await page.evaluate(() => window.__fluxstoreMemory.approveSignIn()), false);
  assert.equal(await step(page, 'credentials').getAttribute('data-state'), 'todo');
  assert.deepEqual(problems, []);
});

test('the Connect service address: where it comes from, a refused address, a new one used by the next sign-in, the default again', async () => {
  const { page, problems } = await connectChosen();
  await page.getByRole('link', { name: 'Payment Gateways' }).click();
  const shown = page.getByTestId('connect-service-url');
  await shown.waitFor();
  assert.equal(await shown.textContent(), 'https://api.fluxstore.net');
  assert.equal(await page.getByTestId('connect-service-source').textContent(), '(FluxStore’s default)');
  assert.ok(await page.getByTestId('connect-service-reset').isDisabled());

  const panel = page.getByTestId('connect-service');
  await page.getByTestId('connect-service-input').fill('http://connect.example.com');
  await page.getByTestId('connect-service-save').click();
  const alert = panel.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'invalid_input');
  assert.match(await alert.textContent(), /must start with https:\/\/ \(plain http is allowed only for an address on this computer\)/);
  assert.match(await alert.textContent(), /Nothing was sent/);
  assert.equal(await shown.textContent(), 'https://api.fluxstore.net');

  await page.getByTestId('connect-service-input').fill('https://connect.example.com');
  await page.getByTestId('connect-service-save').click();
  await panel.locator('[data-testid="connect-service-url"]', { hasText: 'https://connect.example.com/' }).waitFor();
  assert.equal(await page.getByTestId('connect-service-source').textContent(), '(saved on this page)');
  assert.equal(await alert.count(), 0);
  await screenshot(page, 'gateways-connect-service');

  await page.getByTestId('connect-start-test').click();
  assert.match(await page.getByTestId('connect-authorize-url').textContent(), /^https:\/\/connect\.example\.com\/oauth\/authorize\?/);
  await page.getByTestId('connect-cancel').click();
  await page.getByTestId('connect-waiting').waitFor({ state: 'detached' });

  await page.getByTestId('connect-service-reset').click();
  await panel.locator('[data-testid="connect-service-url"]', { hasText: 'https://api.fluxstore.net' }).waitFor();
  assert.equal(await page.getByTestId('connect-service-source').textContent(), '(FluxStore’s default)');
  assert.deepEqual(problems, []);
});

test('a deauthorized mode shows its reason and Connect again; the other mode stays connected', async () => {
  const { page, problems } = await connectChosen();
  await connectMode(page, 'test');
  await connectMode(page, 'live');
  await page.getByRole('link', { name: 'Payment Gateways' }).click();
  const livePanel = page.getByTestId('mode-connection-live');
  await livePanel.waitFor();
  await simulate(page, 'simulateDeauthorization', 'live');
  await livePanel.getByTestId('disconnected-reason').waitFor();
  assert.equal(
    await livePanel.getByTestId('disconnected-reason').textContent(),
    'FluxStore was disconnected in Stripe (Settings → Connected applications). Connect again to resume.',
  );
  assert.match(await text(livePanel.getByTestId('connection-state')), /Disconnected/);
  assert.match(await text(page.getByTestId('connect-start-live')), /^Connect again/);
  assert.match(await text(page.getByTestId('mode-connection-test').getByTestId('connection-state')), /Connected with Stripe Connect/);
  await screenshot(page, 'gateways-deauthorized');

  // Onboarding says it too, with the same Connect again.
  await page.getByRole('link', { name: /Get started/ }).click();
  await page.locator('li[data-step="go_live"]', { hasText: 'disconnected in Stripe' }).waitFor();
  await connectMode(page, 'live');
  await page.locator('li[data-step="credentials"]', { hasText: 'Test and live accounts connected' }).waitFor();
  assert.deepEqual(problems, []);
});

test('disconnecting one Connect mode warns about its renewing subscriptions and keeps the other', async () => {
  const { page, problems } = await connectChosen();
  await connectMode(page, 'test');
  await connectMode(page, 'live');
  await simulate(page, 'simulateSubscription', 'live');
  await simulate(page, 'simulateSubscription', 'live', 'trialing');
  await simulate(page, 'simulateSubscription', 'live', 'canceled');
  await page.getByRole('link', { name: 'Payment Gateways' }).click();
  const livePanel = page.getByTestId('mode-connection-live');
  await livePanel.getByTestId('disconnect-live').click();
  const dialog = livePanel.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await text(livePanel.getByTestId('disconnect-warning')), /2 active subscriptions will fail to renew/);
  assert.match(await dialog.textContent(), /revoked at Stripe at once/);
  await dialog.getByRole('button', { name: 'Disconnect' }).click();
  await livePanel.getByTestId('disconnected-reason').getByText('You disconnected FluxStore from Stripe.').waitFor();
  assert.match(await text(page.getByTestId('mode-connection-test').getByTestId('connection-state')), /Connected/);
  // The last known status stays readable.
  assert.match(await page.getByTestId('account-status-live').textContent(), /Last known status of acct_1FluxConnectLive/);
  assert.deepEqual(problems, []);
});
