// `--sample-store`: the app opens a separate sample mirror fed through its own relay, with
// orders in several currencies (zero- and three-decimal included), disputes and subscriptions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDataDir, go, openApp, screenshot, startDriver } from './harness.mjs';

let driver, app;

before(async () => {
  driver = await startDriver();
  app = await openApp(driver, freshDataDir(), ['--sample-store']);
});
after(async () => {
  await app?.deleteSession().catch(() => {});
  await driver?.stop();
});

test('the sample store shows realistic orders, disputes and subscriptions', async () => {
  await app.$('[data-testid="sample-badge"]').waitForExist({ timeout: 20000 });
  await go(app, '#/orders', 'Orders');
  await app.$('tr[data-session]').waitForExist({ timeout: 20000 });
  const text = await app.$('table[data-testid="orders"]').getText();
  assert.match(text, /¥/, 'a JPY order');
  assert.match(text, /KWD/, 'a KWD order');
  await screenshot(app, 'sample-orders');
  await go(app, '#/disputes', 'Disputes');
  await app.$('table[data-testid="disputes"]').waitForExist({ timeout: 10000 });
  await screenshot(app, 'sample-disputes');
  await go(app, '#/subscriptions', 'Subscriptions');
  await app.$('table[data-testid="subscriptions"]').waitForExist({ timeout: 10000 });
  await screenshot(app, 'sample-subscriptions');
});

test('the sample store is a store set up in test and live: its checklist shows 7 of 7', async () => {
  await app.$('[data-testid="sample-badge"]').waitForExist({ timeout: 20000 });
  await go(app, '#/onboarding', 'Get started');
  await app.waitUntil(async () => /All set/.test(await app.$('[data-testid="progress"]').getText()), {
    timeout: 20000,
    timeoutMsg: 'the sample store’s checklist is not all set',
  });
  const steps = await app.$$('li[data-step]');
  assert.equal(steps.length, 7);
  for (const s of steps) assert.equal(await s.getAttribute('data-state'), 'done', await s.getText());
  const receiving = await app.$('li[data-step="receiving"]').getText();
  assert.match(receiving, /Webhook deliveries from Stripe reach the relay and are verified/);
  await screenshot(app, 'sample-checklist');
});

test('a sample order shows what was bought: line items fetched from Stripe, the checkout metadata, buyer and card', async () => {
  await go(app, '#/orders', 'Orders');
  const row = await app.$('tr[data-session^="cs_test_"] [data-status="paid"]');
  await row.waitForExist({ timeout: 20000 });
  const session = await row.parentElement().parentElement().getAttribute('data-session');
  await go(app, `#/orders/${session}`, session);
  // Never fetched before: opened online, the line items come from the sample store's Stripe.
  const items = await app.$('[data-testid="line-items"]');
  await items.waitForExist({ timeout: 20000 });
  assert.match(await items.getText(), /Rank|Crate|Coins|Pet|Island|Unban/);
  const meta = await app.$('[data-testid="metadata"]').getText();
  assert.match(meta, /Player/);
  assert.match(meta, /Server/);
  assert.match(await app.$('[data-testid="buyer"]').getText(), /visa .* 4242/);
  await app.execute(() => document.querySelector('[data-testid="purchase"]')?.scrollIntoView());
  await screenshot(app, 'sample-order-detail');
});

test('a refunded sample order lists its refund with its status and Dashboard link, and links its customer', async () => {
  await go(app, '#/orders', 'Orders');
  await app.$('#o-status').selectByAttribute('value', 'refunded');
  const row = await app.$('tr[data-session^="cs_test_"] [data-status="refunded"]');
  await row.waitForExist({ timeout: 20000 });
  const session = await row.parentElement().parentElement().getAttribute('data-session');
  await go(app, `#/orders/${session}`, session);
  const refunds = await app.$('[data-testid="refunds"]');
  await refunds.waitForExist({ timeout: 10000 });
  assert.match(await refunds.getText(), /Succeeded/);
  const re = await refunds.$('button[data-dashboard-id^="re_"]');
  await re.waitForExist({ timeout: 10000 });
  // The buyer's Stripe Customer, from the checkout's events, links to the Dashboard.
  const customer = await app.$('[data-testid="customer"] button[data-dashboard-id^="cus_"]');
  await customer.waitForExist({ timeout: 10000 });
  await app.execute(() => document.querySelector('[data-testid="refunds"]')?.scrollIntoView());
  await screenshot(app, 'sample-order-refunds');
});
