// Key mode's live updates through the FluxStore hub in real Chromium with the in-memory backend:
// the switch in the Live updates panel (off with why, on with the endpoint it created, offline
// refused in words, off deleting the endpoint) and the checklist counting the hub's endpoint.
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

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

test('a key-mode store turns live updates through the hub on and off in Payment Gateways', async () => {
  const { page, problems } = await openApp(browser.context, server.url);
  await page.getByRole('button', { name: 'Enter API keys manually' }).click();
  const form = page.getByTestId('keys-form-test');
  await form.getByLabel('Publishable key').fill('pk_test_51AbCdEfGhIjKlMnOpQrStUv');
  await form.getByLabel('Secret key (or restricted key)').fill('sk_test_51AbCdEfGhIjKlMnOpQrStUv');
  await form.getByRole('button', { name: 'Save test keys' }).click();
  await page.locator('li[data-step="credentials"][data-state="done"]').waitFor();
  // Without a signing secret and without the hub, the webhook step is still to do.
  assert.equal(await page.locator('li[data-step="webhook"]').getAttribute('data-state'), 'todo');

  await page.getByRole('link', { name: 'Payment Gateways' }).click();
  const feed = page.getByTestId('hub-feed');
  await feed.getByTestId('key-hub').waitFor();
  assert.equal(await feed.getByTestId('hub-feed-state').getAttribute('data-state'), 'off');
  assert.match(await text(feed.getByTestId('hub-feed-detail')), /live updates through the FluxStore hub are not turned on for its API keys/);
  const toggle = feed.getByTestId('key-hub-toggle');
  assert.equal(await toggle.isChecked(), false);
  assert.match(await text(feed.getByTestId('key-hub-about')), /registers this store at the hub and creates a Stripe webhook endpoint/);

  // Offline: the hub cannot be reached, nothing changes, and the panel says so.
  await simulate(page, 'setOnline', false);
  await toggle.click();
  await feed.getByRole('alert').getByText(/The FluxStore hub at api\.fluxstore\.net cannot be reached\. Live updates stay off/).waitFor();
  assert.equal(await toggle.isChecked(), false);
  await simulate(page, 'setOnline', true);

  await toggle.click();
  await feed.getByRole('status').getByText(/Live updates through the FluxStore hub are on for test mode/).waitFor();
  assert.equal(await toggle.isChecked(), true);
  await feed.locator('[data-testid="hub-feed-state"][data-state="live"]').waitFor();
  assert.match(await text(feed), /where this store is registered for live updates/);
  assert.match(await text(feed.getByTestId('key-hub-about')), /On: Stripe sends this mode’s events to the hub \(webhook endpoint we_/);
  assert.equal(await feed.getByRole('alert').count(), 0, 'the earlier error is gone');
  await screenshot(page, 'key-hub-on');

  // The checklist counts the hub's endpoint as the app's.
  await page.getByRole('link', { name: /Get started/ }).click();
  await page.locator('li[data-step="webhook"][data-state="done"]', { hasText: 'Live updates through the FluxStore hub are on for test mode' }).waitFor();
  assert.match(await text(page.locator('li[data-step="webhook"]')), /Stripe sends all 12 events to https:\/\/api\.fluxstore\.net\/api\/webhooks\/stripe\/s\/hsk_/);

  await page.getByRole('link', { name: 'Payment Gateways' }).click();
  await feed.getByTestId('key-hub-toggle').click();
  await feed.getByRole('status').getByText(/are off for test mode, and the webhook endpoint we_\S+ that sent your events to the hub is deleted in Stripe/).waitFor();
  assert.equal(await feed.getByTestId('key-hub-toggle').isChecked(), false);
  await feed.locator('[data-testid="hub-feed-state"][data-state="off"]').waitFor();
  assert.deepEqual(problems, []);
});
