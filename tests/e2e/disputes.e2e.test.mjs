// The dispute workbench in the real app window, on the sample store (`--sample-store`): the
// queue reads at the window's width with the reason in words; a dispute's evidence form is
// pre-filled from its order, saved on this computer as it is typed, saved at the sample
// store's Stripe stand-in without submitting, then submitted after confirming.
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

test('a sample dispute is answered from the workbench: pre-filled, drafted, staged, submitted once', async () => {
  await app.$('[data-testid="sample-badge"]').waitForExist({ timeout: 20000 });
  await go(app, '#/disputes', 'Disputes');
  await app.$('table[data-testid="disputes"]').waitForExist({ timeout: 20000 });
  const queue = await app.$('table[data-testid="disputes"]').getText();
  assert.doesNotMatch(queue, /product_not_received|fraudulent/, 'reasons in words, not codes');
  // The first dispute still due: its workbench.
  const answer = await app.$('tr[data-urgency="soon"] a[data-workbench], tr[data-urgency="later"] a[data-workbench]');
  await answer.waitForExist({ timeout: 10000 });
  const id = await answer.getAttribute('data-workbench');
  await go(app, `#/disputes/${id}`, id);
  const form = await app.$('[data-testid="evidence-form"]');
  await form.waitForExist({ timeout: 10000 });
  // Pre-filled from the order and marked so.
  const log = await app.$('[data-field="access_activity_log"]');
  assert.equal(await log.getAttribute('data-prefilled'), 'true');
  assert.match(await app.$('[data-field="access_activity_log"] textarea').getValue(), /Purchased .* \(order cs_test_/);
  // Typed: saved on this computer without a button.
  const typed = 'The rank was given in-game a minute after payment; the player has logged in daily since.';
  await app.$('[data-field="refund_refusal_explanation"] textarea').setValue(typed);
  await app.waitUntil(async () => /Draft saved on this computer/.test(await app.$('[data-testid="draft-state"]').getText()), {
    timeout: 10000,
    timeoutMsg: 'the draft was not saved',
  });
  await app.execute(() => {
    document.activeElement?.blur();
    document.querySelector('main h1')?.scrollIntoView({ block: 'start' });
  });
  await screenshot(app, 'sample-dispute-workbench');
  // Saved at Stripe (the stand-in) without submitting: evidence staged, still open.
  await (await app.$('button=Save to Stripe without submitting')).click();
  await app.waitUntil(async () => (await app.$('[data-testid="has-evidence"]').getText()) === 'yes', {
    timeout: 20000,
    timeoutMsg: 'the evidence was not staged',
  });
  assert.equal(await app.$('[data-testid="submission-count"]').getText(), '0');
  // Submit asks first.
  await (await app.$('button=Submit evidence…')).click();
  const confirm = await app.$('dialog[open] button.primary');
  await confirm.waitForExist({ timeout: 5000 });
  await confirm.click();
  await app.waitUntil(async () => (await app.$('[data-testid="submission-count"]').getText()) === '1', {
    timeout: 20000,
    timeoutMsg: 'the evidence was not submitted',
  });
  assert.match(await app.$('[data-testid="closed"]').getText(), /evidence was submitted/);
  assert.equal(await app.$('button=Submit evidence…').isEnabled(), false);
});
