import { describe, expect, test } from 'vitest';
import type { ChecklistFacts, ConnectionStatus, ModeConnection, ModeFacts } from '../../src/lib/backend/types';
import { arrivalPromise, pendingAdvice, relayNote } from '../../src/lib/words';

const facts = (over: Partial<ModeFacts> = {}): ChecklistFacts => {
  const none: ModeFacts = {
    first_event_at: null,
    connected_at: null,
    first_paid_order: null,
    earlier_paid_orders: 0,
    last_event_at: null,
    last_webhook_at: null,
    last_feed_at: null,
    last_polled_at: null,
    event_count: 0,
  };
  return { test: { ...none, ...over }, live: { ...none, ...over }, last_rejection: null };
};
const mode = (m: 'test' | 'live', via: 'keys' | 'connect' | null): ModeConnection => ({
  mode: m,
  connected: via !== null,
  via,
  account_id: null,
  publishable_key: null,
  secrets: [],
  account: null,
  disconnected_reason: null,
});
const conn = (method: 'keys' | 'connect' | null, via: 'keys' | 'connect' | null, listening = false): ConnectionStatus => ({
  method,
  test: mode('test', via),
  live: mode('live', via),
  connect_service: { url: 'https://api.fluxstore.net', source: 'default' },
  relay: { listening, local_url: listening ? 'http://127.0.0.1:8787/api/webhooks/stripe' : null, public_url: null },
  sample_store: false,
  online: true,
});

describe('words that match the code', () => {
  test('“within seconds” only where a webhook delivers; a poll promises about 2 minutes', () => {
    expect(arrivalPromise(conn('keys', 'keys'), facts({ last_webhook_at: 5 }), 'live')).toMatch(/within seconds/);
    for (const [c, f] of [
      [conn('connect', 'connect'), facts({ last_polled_at: 5 })],
      [conn('keys', 'keys'), facts({ last_polled_at: 5 })],
    ] as const) {
      const text = arrivalPromise(c, f, 'live');
      expect(text).not.toMatch(/seconds/);
      expect(text).toMatch(/within about 2 minutes/);
    }
  });
  test('a pending Connect order never blames the webhook', () => {
    const connect = pendingAdvice(conn('connect', 'connect'), facts({ last_polled_at: 5 }), 'test');
    expect(connect).not.toMatch(/webhook/i);
    expect(connect).toMatch(/reads Stripe’s events every 2 minutes/);
    expect(pendingAdvice(conn('keys', 'keys'), facts({ last_webhook_at: 5 }), 'test')).toMatch(/webhook is most likely not reaching FluxStore/);
    expect(pendingAdvice(conn('keys', 'keys'), facts(), 'test')).toMatch(/No webhook delivery has reached FluxStore in test mode yet/);
  });
  test('“Relay stopped” only for a mode connected with keys, and it never says payments stop', () => {
    expect(relayNote(conn('connect', 'connect'), 'test')).toEqual({ bad: false, text: 'The relay is off; Stripe Connect does not need it.' });
    expect(relayNote(conn('connect', null), 'live').bad).toBe(false);
    expect(relayNote(conn('keys', null), 'live')).toEqual({ bad: false, text: 'The relay starts once live keys and a signing secret are saved.' });
    const stopped = relayNote(conn('keys', 'keys'), 'test');
    expect(stopped.bad).toBe(true);
    expect(stopped.text).not.toMatch(/will not process payments/);
    expect(relayNote(conn('keys', 'keys', true), 'test').text).toMatch(/^Relay receiving at http:\/\/127\.0\.0\.1:8787/);
    // Live updates through the hub on: the stopped relay does not matter.
    expect(relayNote(conn('keys', 'keys'), 'test', true)).toEqual({ bad: false, text: 'The relay is off; live updates through the FluxStore hub do not need it.' });
  });
});

describe('the hub’s live feed', () => {
  const feed = (mode: 'test' | 'live', state: 'live' | 'polling' | 'off') => [
    { mode, state, hub: null, hub_source: null, detail: '', last_doorbell_at: null, last_delay_secs: null, doorbells: 0, refused: 0 },
  ];
  test('“within seconds” for a Connect mode only while its feed is live', () => {
    expect(arrivalPromise(conn('connect', 'connect'), facts({}), 'test', feed('test', 'live'))).toMatch(/within seconds.*hub/);
    expect(arrivalPromise(conn('connect', 'connect'), facts({}), 'test', feed('test', 'polling'))).toMatch(/within about 2 minutes/);
    expect(arrivalPromise(conn('connect', 'connect'), facts({}), 'live', feed('test', 'live'))).toMatch(/within about 2 minutes/);
    expect(pendingAdvice(conn('connect', 'connect'), facts({}), 'test', feed('test', 'live'))).toMatch(/hub announces/);
    expect(pendingAdvice(conn('connect', 'connect'), facts({}), 'test', feed('test', 'off'))).toMatch(/every 2 minutes/);
    // Keys with live updates through the hub: the hub announces, as for Connect.
    expect(pendingAdvice(conn('keys', 'keys'), facts({}), 'test', feed('test', 'live'))).toMatch(/hub announces/);
    expect(arrivalPromise(conn('keys', 'keys'), facts({}), 'test', feed('test', 'live'))).toMatch(/within seconds.*hub/);
  });
});

describe('no promise the code does not keep (a lint over the UI and the README)', () => {
  test('the retired sentences are gone', async () => {
    const { readFileSync, readdirSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(svelte|ts)$/.test(name)) files.push(p);
      }
    };
    walk(join(__dirname, '../../src'));
    files.push(join(__dirname, '../../../README.md'));
    const retired = [
      /this app then pulls what it receives/,
      /will show up here within seconds/,
      /gateway will not process payments/,
      /Relay stopped[^\n]*will not process payments/,
    ];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const r of retired) expect(text, `${f} says ${r}`).not.toMatch(r);
    }
  });
});
