// Orders in real Chromium with the sample store: table, amounts in zero- and three-decimal
// currencies, filters, search, keyset paging, the mode switch, detail with timeline, refund
// (partial with confirmation), the refunds listed with their Dashboard links, refund disabled while
// offline, and the first start while the mirror's upgrade rebuilds the order history.
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

const rows = (page) => page.locator('[data-testid="orders"] tbody tr');

test('orders list: amounts, filters, search, Load more and the test/live switch', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/orders' });
  await page.getByTestId('orders').waitFor();
  assert.equal(await rows(page).count(), 25);
  await screenshot(page, 'orders');

  // Zero-decimal JPY and three-decimal KWD render correctly.
  await page.getByLabel('Currency').fill('JPY');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="orders"] tbody td.num')].every((td) => td.textContent.includes('¥')));
  for (const text of await page.locator('[data-testid="orders"] tbody td.num').allTextContents()) {
    assert.match(text.trim(), /^¥[\d,]+(\s*−|$)/, `JPY amount without decimals: ${text}`);
  }
  await page.getByLabel('Currency').fill('kwd');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="orders"] tbody td.num')].every((td) => td.textContent.includes('KWD')));
  for (const text of await page.locator('[data-testid="orders"] tbody td.num').allTextContents()) {
    assert.match(text, /KWD\s?[\d,]+\.\d{3}/, `KWD amount with three decimals: ${text}`);
  }

  // Status filter and search.
  await page.getByLabel('Currency').fill('');
  await page.getByLabel('Status').selectOption('failed');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="orders"] [data-status]')].every((e) => e.getAttribute('data-status') === 'failed'));
  assert.ok((await rows(page).count()) > 0);
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Search').fill('kenji.sato');
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('[data-testid="orders"] tbody tr')];
    return r.length > 0 && r.every((tr) => tr.textContent.includes('kenji.sato@example.jp'));
  });
  await page.getByRole('button', { name: 'Clear' }).click();

  // Date range: only the last 7 days.
  const since = await page.evaluate(() => {
    const d = new Date(Date.now() - 7 * 86400 * 1000);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  });
  // Empty date filters read "Any day" and show no date in the field (no misleading placeholder).
  const anyDays = page.locator('.datefield .any');
  assert.equal(await anyDays.count(), 2);
  assert.deepEqual(await anyDays.allTextContents(), ['Any day', 'Any day']);
  assert.equal(await page.getByLabel('From').evaluate((i) => getComputedStyle(i).color), 'rgba(0, 0, 0, 0)');
  await page.getByLabel('From').fill(since);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="orders"] tbody tr').length < 25);
  assert.equal(await anyDays.count(), 1, 'a chosen day shows itself');
  const n = await rows(page).count();
  assert.ok(n >= 7 && n <= 11, `orders in the last 7 days: ${n}`);
  await page.getByRole('button', { name: 'Clear' }).click();

  // Keyset paging: Load more appends older rows without repeating any.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="orders"] tbody tr').length === 25);
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="orders"] tbody tr').length === 50);
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.getByText('that’s all').waitFor();
  const ids = await page.locator('[data-testid="orders"] tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.session));
  assert.equal(ids.length, 64);
  assert.equal(new Set(ids).size, 64);
  assert.ok(ids.every((id) => id.startsWith('cs_test_')));

  // The mode switch shows live rows only, with the live badge.
  await page.getByLabel('Live').check();
  await page.waitForFunction(() => document.querySelector('[data-testid="orders"] tbody tr')?.dataset.session?.startsWith('cs_') &&
    [...document.querySelectorAll('[data-testid="orders"] tbody tr')].every((t) => !t.dataset.session.startsWith('cs_test_')));
  assert.equal(await page.getByTestId('mode-badge').textContent(), 'Live mode');
  assert.equal(await rows(page).count(), 18);
  assert.deepEqual(problems, []);
});

test('order detail: timeline, partial refund with confirmation, refund disabled offline', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/orders' });
  await page.getByLabel('Status').selectOption('paid');
  await page.getByLabel('Currency').fill('usd');
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('[data-testid="orders"] tbody tr')];
    return r.length > 0 && r.every((tr) => tr.querySelector('[data-status]')?.getAttribute('data-status') === 'paid' && tr.textContent.includes('$'));
  });
  const first = rows(page).first();
  const session = await first.getAttribute('data-session');
  await first.getByRole('link').click();
  await page.getByTestId('timeline').waitFor();
  assert.match(await page.locator('main h1').textContent(), new RegExp(session));
  assert.match(await page.getByTestId('timeline').textContent(), /checkout\.session\.completed/);
  const amountText = await page.getByTestId('amount').textContent();
  const total = Math.round(Number(amountText.replace(/[^\d.]/g, '')) * 100);

  // Partial refund of 1.00, confirmed in the dialog.
  await page.getByLabel('Partial').check();
  await page.getByLabel('Amount in USD').fill('1.005');
  await page.getByText('Enter an amount like 1.00').waitFor();
  await page.getByLabel('Amount in USD').fill('1');
  await page.getByLabel('Reason').selectOption('duplicate');
  await page.getByRole('button', { name: 'Refund…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /\$1\.00 goes back to/);
  await screenshot(page, 'order-refund-confirm');
  await dialog.getByRole('button', { name: /^Refund \$1\.00$/ }).click();
  await page.locator('[data-status="partially_refunded"]').waitFor();
  assert.equal(await page.getByTestId('refunded').textContent(), '$1.00');
  await page.locator('[data-testid="timeline"] li', { hasText: 'charge.refunded' }).waitFor();
  // The refund is listed with its amount, status, reason and its Dashboard page.
  const refund = page.locator('[data-testid="refunds"] tbody tr');
  assert.equal(await refund.count(), 1);
  assert.match(await refund.textContent(), /\$1\.00\s*Succeeded\s*duplicate/);
  const re = await refund.getAttribute('data-refund-id');
  assert.match(re, /^re_/);
  await refund.locator(`button[data-dashboard-id="${re}"]`).click();
  await page.waitForFunction((w) => window.__fluxstoreMemory.openedUrls.includes(w), `https://dashboard.stripe.com/test/refunds/${re}`);
  await screenshot(page, 'order-detail');

  // Offline: refund is disabled and says why; the rest still reads.
  await simulate(page, 'setOnline', false);
  await page.getByTestId('refund-disabled').waitFor();
  assert.match(await page.getByTestId('refund-disabled').textContent(), /Refunds need the internet: you are offline/);
  assert.ok(await page.getByRole('button', { name: 'Refund…' }).isDisabled());
  assert.match(await page.getByTestId('online').textContent(), /Offline/);
  await page.getByRole('link', { name: '← All orders' }).click();
  await page.getByTestId('orders').waitFor();
  assert.ok(total > 100);
  assert.deepEqual(problems, []);
});

test('Stripe links: an order opens its payment and customer in the Dashboard of its mode; a dispute opens its Dashboard page', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/orders' });
  const opened = () => page.evaluate(() => window.__fluxstoreMemory.openedUrls);
  for (const mode of ['Test', 'Live']) {
    await page.getByLabel(mode).check();
    // Test sessions are cs_test_…; live ones are not.
    const wantTest = mode === 'Test';
    await page.getByLabel('Status').selectOption('paid');
    await page.waitForFunction((t) => {
      const r = [...document.querySelectorAll('[data-testid="orders"] tbody tr')];
      return r.length > 0 && r.every((tr) => t === (tr.dataset.session ?? '').startsWith('cs_test_') && tr.querySelector('[data-status]')?.getAttribute('data-status') === 'paid');
    }, wantTest);
    await rows(page).first().getByRole('link').click();
    const pay = page.getByTestId('payment-ids');
    await pay.waitFor();
    const link = pay.locator('button[data-dashboard-id^="pi_"]');
    const pi = await link.getAttribute('data-dashboard-id');
    assert.match(await pay.textContent(), new RegExp(pi));
    await link.click();
    const want = `https://dashboard.stripe.com/${mode === 'Test' ? 'test/' : ''}payments/${pi}`;
    await page.waitForFunction((w) => window.__fluxstoreMemory.openedUrls.includes(w), want);
    // The buyer's Stripe Customer opens on the customers page of the same mode.
    const customer = page.getByTestId('customer').locator('button[data-dashboard-id^="cus_"]');
    const cus = await customer.getAttribute('data-dashboard-id');
    await customer.click();
    const wantCustomer = `https://dashboard.stripe.com/${mode === 'Test' ? 'test/' : ''}customers/${cus}`;
    await page.waitForFunction((w) => window.__fluxstoreMemory.openedUrls.includes(w), wantCustomer);
    await page.getByRole('link', { name: '← All orders' }).click();
    await page.getByLabel('Status').selectOption('');
  }
  await page.getByLabel('Test').check();
  await page.getByRole('link', { name: 'Disputes' }).click();
  const submit = page.locator('[data-testid="disputes"] button[data-dashboard-id^="dp_"]').first();
  await submit.waitFor();
  const dp = await submit.getAttribute('data-dashboard-id');
  await submit.click();
  await page.waitForFunction((w) => window.__fluxstoreMemory.openedUrls.includes(w), `https://dashboard.stripe.com/test/disputes/${dp}`);
  assert.ok((await opened()).every((u) => u.startsWith('https://dashboard.stripe.com/')));
  assert.deepEqual(problems, []);
});

test('first start after an upgrade: the window says the order history is being updated, then shows the store', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'upgrading' });
  const updating = page.getByTestId('updating');
  await updating.waitFor();
  assert.match(await updating.textContent(), /Updating your order history…/);
  assert.match(await updating.textContent(), /48,210 events stored on this computer/);
  assert.doesNotMatch(await updating.textContent(), /%/, 'no made-up percentage');
  await screenshot(page, 'updating-order-history');
  await simulate(page, 'finishUpgrade');
  await page.getByRole('heading', { name: /Get started|Set up/ }).first().waitFor();
  assert.equal(await page.getByTestId('updating').count(), 0);
  assert.deepEqual(problems, []);
});

test('the revenue summary heads Orders, per currency, and follows the From and To days', async () => {
  const { page, problems } = await openApp(browser.context, server.url, { state: 'sample', hash: '#/orders' });
  await page.getByTestId('orders').waitFor();
  const summary = page.getByTestId('revenue-summary');
  await summary.waitFor();
  const currencies = await summary.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-currency')));
  assert.ok(currencies.length >= 3, `several currencies: ${currencies}`);
  assert.deepEqual([...currencies].sort(), currencies, 'in code order');
  // KWD with three decimals, JPY with none, in every money column.
  const kwd = await summary.locator('tr[data-currency="kwd"] td.num').allTextContents();
  for (const cell of kwd.slice(1).filter((t) => t.trim() !== '—')) assert.match(cell, /KWD\s?[\d,]+\.\d{3}/, cell);
  const jpy = await summary.locator('tr[data-currency="jpy"] td.num').allTextContents();
  for (const cell of jpy.slice(1).filter((t) => t.trim() !== '—')) assert.match(cell, /¥[\d,]+$/, cell);
  await screenshot(page, 'orders-revenue-summary');
  // A period with no paid order: the summary steps aside.
  await page.getByLabel('From').fill('2001-01-01');
  await page.getByLabel('To').fill('2001-01-31');
  await summary.waitFor({ state: 'detached' });
  assert.deepEqual(problems, []);
});
