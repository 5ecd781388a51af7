// Connect per mode in the in-memory backend, as the shell does it: the pending sign-in and how
// it ends (sign_in_ended, then account_changed), disconnect and deauthorization per mode, the
// account status only where the shell puts it, and the Connect service address.
import { describe, expect, test } from 'vitest';
import { deriveChecklist } from '../../src/lib/checklist';
import { fresh, PK, record, rejection, sample, settle, SK } from './memory-helpers';

const DEAUTHORIZED = 'FluxStore was disconnected in Stripe (Settings → Connected applications). Connect again to resume.';

describe('Connect sign-in per mode', () => {
  test('connect_start honours the mode; the browser approves; test then live, each with its account', async () => {
    const b = fresh();
    const ended = record(b, 'sign_in_ended');
    const changes = record(b, 'account_changed');
    const order: string[] = [];
    void b.on('sign_in_ended', () => order.push('sign_in_ended'));
    void b.on('account_changed', () => order.push('account_changed'));

    const { authorize_url } = await b.call('connect_start', { mode: 'test' });
    const url = new URL(authorize_url);
    expect(`${url.origin}${url.pathname}`).toBe('https://api.fluxstore.net/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('fluxstore-desktop');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(b.pendingSignIn()).toBe('test');
    expect(b.openedUrls).toEqual([authorize_url]);
    // Nothing is connected while the owner is at Stripe.
    expect((await b.call('connection_status')).test.connected).toBe(false);
    expect(changes).toHaveLength(0);

    expect(b.approveSignIn()).toBe(true);
    expect(ended).toEqual([{ mode: 'test', connected: true, account_id: 'acct_1FluxConnectTest', code: null, message: null }]);
    expect(order).toEqual(['sign_in_ended', 'account_changed']);
    let s = changes.at(-1)!;
    expect(s.method).toBe('connect');
    expect(s.test).toMatchObject({
      connected: true,
      via: 'connect',
      account_id: 'acct_1FluxConnectTest',
      secrets: [{ kind: 'connect_token', store: 'Secret Service (GNOME Keyring or KWallet)' }],
      disconnected_reason: null,
    });
    // The status was fetched right after connecting.
    expect(s.test.account).toMatchObject({ account_id: 'acct_1FluxConnectTest', mode: 'test', charges_enabled: true, payouts_enabled: true });
    expect(s.live).toMatchObject({ connected: false, via: null, account: null });
    expect(b.pendingSignIn()).toBeNull();

    await b.call('connect_start', { mode: 'live' });
    b.approveSignIn();
    s = await b.call('connection_status');
    expect(s.live).toMatchObject({ connected: true, via: 'connect', account_id: 'acct_1FluxConnectLive' });
    expect(s.live.account).toMatchObject({ mode: 'live', payouts_enabled: false });
    expect(s.test.connected).toBe(true);
    expect(ended.map((e) => [e.mode, e.connected])).toEqual([
      ['test', true],
      ['live', true],
    ]);
  });

  test('denied, timed out and cancelled sign-ins end with their code and message, and connect nothing', async () => {
    const b = fresh();
    const ended = record(b, 'sign_in_ended');
    const changes = record(b, 'account_changed');
    await b.call('connect_start', { mode: 'live' });
    expect(b.denySignIn()).toBe(true);
    expect(ended.at(-1)).toEqual({
      mode: 'live',
      connected: false,
      account_id: null,
      code: 'access_denied',
      message: 'Stripe did not connect the account: The user denied your request.',
    });
    await b.call('connect_start', { mode: 'test' });
    b.timeOutSignIn();
    expect(ended.at(-1)).toMatchObject({ mode: 'test', code: 'timed_out', message: 'The connection was not finished within 5 minutes; start it again.' });

    await b.call('connect_start', { mode: 'test' });
    expect(await b.call('connect_cancel')).toBeNull();
    // The ending follows the command, as the shell's background task reports it.
    expect(ended).toHaveLength(2);
    await settle();
    expect(ended.at(-1)).toMatchObject({ mode: 'test', connected: false, code: 'cancelled', message: 'The connection was cancelled.' });
    expect(ended).toHaveLength(3);
    // Every ending is followed by the connection as it is.
    expect(changes).toHaveLength(3);
    const s = await b.call('connection_status');
    expect([s.test.connected, s.live.connected, s.method]).toEqual([false, false, null]);
    expect(b.approveSignIn()).toBe(false);
    expect(b.denySignIn()).toBe(false);
  });

  test('a second sign-in replaces the first, which ends as cancelled', async () => {
    const b = fresh();
    const ended = record(b, 'sign_in_ended');
    await b.call('connect_start', { mode: 'test' });
    await b.call('connect_start', { mode: 'live' });
    expect(b.pendingSignIn()).toBe('live');
    await settle();
    expect(ended).toEqual([{ mode: 'test', connected: false, account_id: null, code: 'cancelled', message: 'The connection was cancelled.' }]);
    b.approveSignIn();
    expect(ended.at(-1)).toMatchObject({ mode: 'live', connected: true });
  });

  test('starting works offline (only a local listener); redeeming needs the Connect service; the mode must match', async () => {
    const b = fresh();
    const ended = record(b, 'sign_in_ended');
    b.setOnline(false);
    await b.call('connect_start', { mode: 'test' });
    b.approveSignIn();
    expect(ended.at(-1)).toMatchObject({ code: 'service_unreachable', message: 'The Connect service could not be reached: the connection failed.' });
    b.setOnline(true);
    await b.call('connect_start', { mode: 'test' });
    b.approveSignIn({ livemode: true });
    expect(ended.at(-1)).toMatchObject({
      code: 'invalid_input',
      message: 'Stripe connected the account in live mode, but test mode was asked for, so the connection was not kept. Start again and choose the matching mode.',
    });
    expect((await b.call('connection_status')).test.connected).toBe(false);
  });
});

describe('a Connect connection ends per mode, with its reason', () => {
  async function connectedBoth() {
    const b = fresh();
    for (const mode of ['test', 'live'] as const) {
      await b.call('connect_start', { mode });
      b.approveSignIn();
    }
    return b;
  }

  test('disconnect revokes that mode only (online), says why, and keeps the mirror', async () => {
    const b = await connectedBoth();
    b.setOnline(false);
    const offline = await rejection(b.call('disconnect', { mode: 'test' }));
    expect(offline).toEqual({ code: 'offline', message: 'The Connect service could not be reached: the connection failed.' });
    expect((await b.call('connection_status')).test.connected).toBe(true);
    b.setOnline(true);
    const s = await b.call('disconnect', { mode: 'test' });
    expect(s.test).toMatchObject({ connected: false, via: null, secrets: [], disconnected_reason: 'You disconnected FluxStore from Stripe.' });
    // The mirror keeps the account's last known status.
    expect(s.test.account?.account_id).toBe('acct_1FluxConnectTest');
    expect(s.live).toMatchObject({ connected: true, via: 'connect', disconnected_reason: null });
  });

  test('a deauthorization event ends the mode; calls then fail with the reason; connecting again clears it', async () => {
    const b = await connectedBoth();
    const applied = record(b, 'event_applied');
    const changes = record(b, 'account_changed');
    b.simulateDeauthorization('live');
    expect(applied.map((e) => [e.event_type, e.mode])).toEqual([['account.application.deauthorized', 'live']]);
    expect(changes.at(-1)?.live).toMatchObject({ connected: false, via: null, disconnected_reason: DEAUTHORIZED });
    // The token is still in the keyring, but it is no credential any more.
    expect(changes.at(-1)?.live.secrets.map((x) => x.kind)).toEqual(['connect_token']);
    expect(changes.at(-1)?.test.connected).toBe(true);
    expect(await rejection(b.call('account_status', { mode: 'live', refresh: true }))).toEqual({ code: 'not_connected', message: DEAUTHORIZED });
    await b.call('connect_start', { mode: 'live' });
    b.approveSignIn();
    expect((await b.call('connection_status')).live).toMatchObject({ connected: true, disconnected_reason: null });
  });

  test('a 401 on the token ends a Connect mode, but not a mode with an API key', async () => {
    const b = await connectedBoth();
    b.simulateTokenRevoked('test');
    expect((await b.call('connection_status')).test.disconnected_reason).toMatch(/^Stripe no longer accepts FluxStore's access/);
    await b.call('save_keys', { publishable_key: 'pk_live_51AbCdEfGhIjKlMnOpQrStUv', secret_key: 'sk_live_51AbCdEfGhIjKlMnOpQrStUv' });
    b.simulateTokenRevoked('live');
    const live = (await b.call('connection_status')).live;
    // An API key wins over the token, and keeps the Connect connection standing.
    expect(live).toMatchObject({ connected: true, via: 'keys', disconnected_reason: null });
    expect(live.secrets.map((x) => x.kind)).toEqual(['secret_key', 'connect_token']);
  });
});

describe('the account status lives in the mirror', () => {
  test('it appears after connecting, after keys, on Refresh, or from an account.updated, and nowhere else', async () => {
    const b = fresh();
    await b.call('choose_method', { method: 'connect' });
    expect(await b.call('account_status', { mode: 'live', refresh: false })).toBeNull();
    await b.call('connect_start', { mode: 'live' });
    b.approveSignIn();
    expect((await b.call('account_status', { mode: 'live', refresh: false }))?.payouts_enabled).toBe(false);
    // Refresh asks Stripe again: not verified yet, so nothing changes.
    expect((await b.call('account_status', { mode: 'live', refresh: true }))?.payouts_enabled).toBe(false);
    const applied = record(b, 'event_applied');
    expect(b.completeAccountOnboarding('live')).toBe(true);
    expect(applied).toEqual([{ event_id: expect.stringMatching(/^evt_/), event_type: 'account.updated', mode: 'live', projected: true }]);
    expect((await b.call('connection_status')).live.account).toMatchObject({ charges_enabled: true, payouts_enabled: true, details_submitted: true });
    // A mode that is not connected hears of no account.
    expect(b.completeAccountOnboarding('test')).toBe(false);
    expect((await b.call('connection_status')).test.account).toBeNull();
  });

  test('the checklist is All set for an owner who connected test, then live, through Connect', async () => {
    const b = fresh();
    const checklist = async () => deriveChecklist({ connection: await b.call('connection_status'), facts: await b.call('checklist_facts') });
    await b.call('choose_method', { method: 'connect' });
    await b.call('connect_start', { mode: 'test' });
    b.approveSignIn();
    b.simulatePayment('test');
    expect((await checklist()).current).toBe('go_live');
    await b.call('connect_start', { mode: 'live' });
    b.approveSignIn();
    expect((await checklist()).current).toBe('account');
    b.completeAccountOnboarding('live');
    b.simulatePayment('live', 100);
    const cl = await checklist();
    expect(cl.steps.map((s) => [s.id, s.state])).toEqual([
      ['method', 'done'],
      ['credentials', 'done'],
      ['webhook', 'done'],
      ['receiving', 'done'],
      ['test_payment', 'done'],
      ['account', 'done'],
      ['go_live', 'done'],
    ]);
    expect(cl.done).toBe(true);
  });
});

describe('the Connect service address', () => {
  test('default, then set (normalised), used by the next sign-in, then back to the default', async () => {
    const b = fresh();
    expect((await b.call('connection_status')).connect_service).toEqual({ url: 'https://api.fluxstore.net', source: 'default' });
    let s = await b.call('set_connect_service', { url: '  https://connect.example.com  ' });
    expect(s.connect_service).toEqual({ url: 'https://connect.example.com/', source: 'setting' });
    const { authorize_url } = await b.call('connect_start', { mode: 'test' });
    expect(authorize_url).toMatch(/^https:\/\/connect\.example\.com\/oauth\/authorize\?/);
    s = await b.call('set_connect_service', { url: 'http://127.0.0.1:8000/base/' });
    expect(s.connect_service.url).toBe('http://127.0.0.1:8000/base/');
    expect((await b.call('connect_start', { mode: 'test' })).authorize_url).toMatch(/^http:\/\/127\.0\.0\.1:8000\/base\/oauth\/authorize\?/);
    expect((await b.call('set_connect_service', { url: 'http://localhost:9000' })).connect_service.url).toBe('http://localhost:9000/');
    s = await b.call('set_connect_service', { url: null });
    expect(s.connect_service).toEqual({ url: 'https://api.fluxstore.net', source: 'default' });
    expect((await b.call('set_connect_service', { url: '   ' })).connect_service.source).toBe('default');
  });

  test('plain http away from this computer, or no address at all, is refused as invalid_input', async () => {
    const b = fresh();
    await b.call('set_connect_service', { url: 'https://connect.example.com' });
    const http = await rejection(b.call('set_connect_service', { url: 'http://connect.example.com' }));
    expect(http.code).toBe('invalid_input');
    expect(http.message).toMatch(/must start with https:\/\/ \(plain http is allowed only for an address on this computer\)/);
    const junk = await rejection(b.call('set_connect_service', { url: 'connect dot example' }));
    expect(junk).toEqual({
      code: 'invalid_input',
      message: '"connect dot example" is not a web address. Enter the Connect service\'s address, e.g. https://api.fluxstore.net.',
    });
    expect((await rejection(b.call('set_connect_service', { url: 'ftp://127.0.0.1/' }))).code).toBe('invalid_input');
    // Nothing changed.
    expect((await b.call('connection_status')).connect_service.url).toBe('https://connect.example.com/');
  });

  test('the sample store shows its own profile’s service; a change is kept for the owner’s store', async () => {
    const b = sample();
    const s = await b.call('set_connect_service', { url: 'https://connect.example.com' });
    expect(s.connect_service.source).toBe('default');
    expect((await b.call('close_sample_store')).connect_service).toEqual({ url: 'https://connect.example.com/', source: 'setting' });
  });
});

test('saving keys keeps a Connect token of that mode; the key wins', async () => {
  const b = fresh();
  await b.call('connect_start', { mode: 'test' });
  b.approveSignIn();
  const s = await b.call('save_keys', { publishable_key: PK, secret_key: SK });
  expect(s.test.via).toBe('keys');
  expect(s.test.secrets.map((x) => x.kind)).toEqual(['secret_key', 'connect_token']);
  expect(s.method).toBe('connect');
});
