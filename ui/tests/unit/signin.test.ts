// The window's view of a Connect sign-in, driven by the in-memory backend's "browser".
import { describe, expect, test } from 'vitest';
import { AppState } from '../../src/lib/app.svelte';
import { signInAdvice } from '../../src/lib/signin.svelte';
import { fresh, settle } from './memory-helpers';

async function started() {
  const b = fresh();
  const app = new AppState(b);
  await app.start();
  return { b, app };
}

describe('sign-in flow', () => {
  test('waiting shows the authorize URL; an approval ends it and the connection carries the account', async () => {
    const { b, app } = await started();
    await app.signIn.start('test');
    expect(app.signIn.waiting).toMatchObject({ mode: 'test', cancelling: false });
    expect(app.signIn.waiting?.authorizeUrl).toMatch(/^https:\/\/api\.fluxstore\.net\/oauth\/authorize\?/);
    // One sign-in at a time: a second click does nothing.
    await app.signIn.start('live');
    expect(b.pendingSignIn()).toBe('test');
    b.approveSignIn();
    expect(app.signIn.waiting).toBeNull();
    expect(app.signIn.failures).toEqual({ test: null, live: null });
    expect(app.connection?.test).toMatchObject({ connected: true, via: 'connect' });
    expect(app.connection?.test.account?.charges_enabled).toBe(true);
  });

  test('a denial ends the waiting and its message stays until that mode’s next attempt', async () => {
    const { b, app } = await started();
    await app.signIn.start('live');
    b.denySignIn();
    expect(app.signIn.waiting).toBeNull();
    expect(app.signIn.failures.live).toEqual({
      code: 'access_denied',
      message: 'Stripe did not connect the account: The user denied your request.',
      advice: signInAdvice('access_denied'),
    });
    await app.signIn.start('test');
    b.timeOutSignIn();
    expect(app.signIn.failures.live?.code).toBe('access_denied');
    expect(app.signIn.failures.test?.code).toBe('timed_out');
    await app.signIn.start('live');
    expect(app.signIn.failures.live).toBeNull();
  });

  test('Cancel keeps waiting until the shell confirms with sign_in_ended', async () => {
    const { app } = await started();
    await app.signIn.start('test');
    const cancelling = app.signIn.cancel();
    expect(app.signIn.waiting?.cancelling).toBe(true);
    await cancelling;
    expect(app.signIn.waiting).not.toBeNull();
    await settle();
    expect(app.signIn.waiting).toBeNull();
    expect(app.signIn.failures.test?.code).toBe('cancelled');
  });

  test('a refused start (the sample store) is a failure of that mode, not a waiting state', async () => {
    const { app } = await started();
    await app.backend.call('open_sample_store');
    await app.signIn.start('test');
    expect(app.signIn.waiting).toBeNull();
    expect(app.signIn.failures.test?.code).toBe('refused');
    expect(app.signIn.failures.test?.advice).toBe('Nothing was sent to Stripe.');
  });

  test('an account.updated re-reads the connection, so its status shows without a separate cache', async () => {
    const { b, app } = await started();
    await app.signIn.start('live');
    b.approveSignIn();
    expect(app.connection?.live.account?.payouts_enabled).toBe(false);
    b.completeAccountOnboarding('live');
    await settle();
    expect(app.connection?.live.account?.payouts_enabled).toBe(true);
  });

  test('every failure code has advice', () => {
    for (const code of ['access_denied', 'timed_out', 'cancelled', 'state_mismatch', 'service_unreachable', 'service_refused', 'provider_error', 'invalid_input', null])
      expect(signInAdvice(code).length).toBeGreaterThan(20);
  });
});
