// Payment Gateways, Disputes, Subscriptions and Activity in real Chromium with the sample
// store, plus keyboard navigation and the dark theme.
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

test('Payment Gateways: status, webhook health with fixes, secret stores, disconnect warning', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/gateways' });
  await page.getByTestId('rejections').waitFor();
  assert.equal(await page.getByTestId('method').textContent(), 'Manual API keys');
  assert.equal(await page.getByTestId('mode-badge').first().textContent(), 'Test mode');
  assert.match(await page.getByTestId('charges').textContent(), /Enabled/);
  assert.match(await page.getByTestId('payouts').textContent(), /Enabled/);
  const health = await page.getByTestId('rejections').textContent();
  assert.match(health, /Signature mismatch: the signing secret does not match this endpoint/);
  assert.match(health, /Check the computer’s clock/);
  assert.match(await page.getByTestId('last-verified').textContent(), /Last verified test event: .+ago|now/);
  assert.match(await page.getByTestId('secrets').textContent(), /Secret key: stored in Secret Service \(GNOME Keyring\)/);
  assert.match(await page.getByTestId('secrets').textContent(), /Webhook signing secret: stored in Secret Service/);
  await page.getByText('Webhook endpoint and signing secret').click();
  assert.equal(await page.getByTestId('public-url').textContent(), 'https://relay.blockhaven.example/api/webhooks/stripe');
  assert.equal(await page.getByLabel('Public endpoint URL').inputValue(), 'https://relay.blockhaven.example/api/webhooks/stripe');
  assert.match(await page.locator('main').textContent(), /Take a fee from your transactions/);
  assert.match(await page.locator('main').textContent(), /Refund payments/);
  await screenshot(page, 'gateways');

  // Live: payouts not enabled → requirements and the onboarding link.
  await page.getByLabel('Live').check();
  await page.getByTestId('requirements').waitFor();
  assert.match(await page.getByTestId('requirements').textContent(), /Payouts are not enabled yet/);
  assert.match(await page.getByTestId('requirements').textContent(), /dashboard\.stripe\.com\/account\/onboarding/);

  // Disconnect warns with the number of active subscriptions of this mode, then disconnects.
  await page.getByTestId('disconnect').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await page.getByTestId('disconnect-warning').textContent(), /3 active subscriptions will fail to renew/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByTestId('disconnect').click();
  await dialog.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByText('Not connected in live mode').waitFor();
  // Orders are kept after a disconnect.
  await page.getByRole('link', { name: 'Orders' }).click();
  await page.getByTestId('orders').waitFor();
  assert.deepEqual(problems, []);
});

test('Disputes: queue by evidence due date with urgency and linked orders', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/disputes' });
  await page.getByTestId('disputes').waitFor();
  const urgencies = await page.locator('[data-testid="disputes"] tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.urgency));
  assert.deepEqual(urgencies, ['overdue', 'soon', 'later', 'none', 'none']);
  assert.match(await page.locator('[data-testid="disputes"] tbody tr').first().textContent(), /Overdue.*Needs response.*fraudulent/s);
  await screenshot(page, 'disputes');
  const link = page.locator('[data-testid="disputes"] tbody tr').first().getByRole('link');
  const session = await link.textContent();
  await link.click();
  await page.getByTestId('timeline').waitFor();
  assert.match(await page.getByTestId('timeline').textContent(), /charge\.dispute\.created/);
  assert.match(await page.locator('main h1').textContent(), new RegExp(session));
  // Live disputes are a separate queue.
  await page.getByRole('link', { name: 'Disputes' }).click();
  await page.getByLabel('Live').check();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="disputes"] tbody tr').length === 1);
  assert.deepEqual(problems, []);
});

test('Subscriptions and invoices, with a failed invoice', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/subscriptions' });
  await page.getByTestId('subscriptions').waitFor();
  assert.equal(await page.locator('[data-testid="subscriptions"] tbody tr').count(), 6);
  assert.match(await page.getByTestId('subscriptions').textContent(), /Past due/);
  assert.match(await page.getByTestId('invoices').textContent(), /Payment failed/);
  assert.match(await page.getByTestId('invoices').textContent(), /¥980/);
  await screenshot(page, 'subscriptions');
  assert.deepEqual(problems, []);
});

test('Activity: the API audit log and rejected deliveries; a refund adds an audit row', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/activity' });
  await page.getByTestId('audit').waitFor();
  const before = await page.locator('[data-testid="audit"] tbody tr').count();
  assert.match(await page.getByTestId('audit').textContent(), /GET \/v1\/account/);
  assert.match(await page.getByTestId('activity-rejections').textContent(), /signature_invalid/);
  await screenshot(page, 'activity');
  const session = await page.evaluate(() => window.__fluxstoreMemory.simulatePayment('test', 1500, 'eur'));
  await page.evaluate((s) => window.__fluxstoreMemory.call('refund_order', { mode: 'test', session_id: s, amount: null, reason: null }), session);
  await page.evaluate(() => window.__fluxstoreMemory.simulateVerifiedEvent('test'));
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit"] tbody tr').length === n + 1, before);
  assert.match(await page.locator('[data-testid="audit"] tbody tr').first().textContent(), /POST \/v1\/refunds/);
  assert.deepEqual(problems, []);
});

test('keyboard: Shift+Tab from the heading reaches the navigation and Enter opens a view', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/orders' });
  await page.getByTestId('orders').waitFor();
  // Focus sits on the view's heading after navigation; the nav comes before it in tab order.
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Shift+Tab');
    reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === 'Disputes');
  }
  assert.ok(reached, 'the Disputes link is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.getByTestId('disputes').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
  assert.deepEqual(problems, []);
});

test('dark theme and empty states that say what to do', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { hash: '#/disputes' });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByTestId('empty').waitFor();
  assert.match(await page.getByTestId('empty').textContent(), /When a customer disputes a charge it appears here/);
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(bg, 'rgb(18, 20, 24)');
  await page.getByRole('link', { name: 'Orders' }).click();
  await page.getByText('Place a test order with card 4242 4242 4242 4242').waitFor();
  await screenshot(page, 'orders-empty-dark');
  await simulate(page, 'setOnline', false);
  await page.getByText('Offline — showing the local mirror').waitFor();
  // Sync progress shows while it runs, a gap stays visible, a clean finish clears it.
  await simulate(page, 'simulateSyncProgress', { mode: 'test', pages: 2, events: 180, newest: null, done: false, gap: null });
  await page.getByText('Syncing test events… 180 so far').waitFor();
  await simulate(page, 'simulateSyncProgress', { mode: 'test', pages: 3, events: 240, newest: null, done: true, gap: null });
  await page.getByTestId('sync').waitFor({ state: 'detached' });
  await simulate(page, 'simulateSyncProgress', { mode: 'test', pages: 3, events: 240, newest: null, done: true, gap: 'Events older than 30 days could not be fetched: 2 days are missing.' });
  await page.getByText('2 days are missing').waitFor();
  assert.deepEqual(problems, []);
});
