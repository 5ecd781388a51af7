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
