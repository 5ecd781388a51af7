/**
 * The in-memory backend cannot drift from the real shell: every scenario in
 * `tests/contract/scenarios` is replayed here on the memory backend and must give the transcript
 * the shell's own test recorded from a real `AppState` (src-tauri/tests/contract/, through the
 * handler table's `dispatch`). So a browser test that passes on the memory backend exercises
 * what the shell really answers, and a kindness of the memory backend fails here.
 *
 * What it catches, for example: a status that fills `account` on connect or on saving keys when
 * the shell does not (or the reverse); a `connect_start` that ignores the mode; a sign-in ending
 * with other words or code, or announced without the `account_changed` that follows it; a
 * Connect service address accepted that the shell refuses; an authorize URL built otherwise;
 * a disconnect that leaves another mode's state changed; the keyring's name as the shell shows it;
 * a signed `account.updated` announced otherwise than the relay announces it.
 *
 * The normalization is the Rust test's, step for step (clock values → 0, `acct_…` and `evt_…`
 * ids numbered by first appearance, the Connect service address, loopback ports, PKCE values,
 * publishable keys Stripe issued, the account's own facts at Stripe; pasted secrets in the
 * arguments are shown as `<secret>`). The memory backend cannot
 * know those the same way: the fakes pick random ports, keys and ids, and the account's business
 * name and verification are the fake Stripe's data, not the shell's behaviour; whether and when
 * an account status is present is still compared.
 *
 * After a change in the shell: rerun its test with FLUXSTORE_WRITE_TRANSCRIPTS=1, then make the
 * memory backend match (never edit a transcript by hand).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CommandName } from '../../src/lib/backend/api';
import { MemoryBackend } from '../../src/lib/backend/memory';
import type { BackendEvents, Mode } from '../../src/lib/backend/types';

const DIR = join(__dirname, '..', 'contract');
/** Where the memory backend's Connect service "listens" (the shell's test uses a real one). */
const MEMORY_CONNECT_SERVICE = 'http://127.0.0.1:8790';
const CONNECT_SERVICE_ARG = '$CONNECT_SERVICE';
/** Where the memory backend's FluxStore hub is (the shell's test starts a real one). */
const MEMORY_HUB = 'https://hub.fluxstore.test';
const HUB_ARG = '$HUB';
const EVENTS: (keyof BackendEvents)[] = ['event_applied', 'sync_progress', 'online_changed', 'account_changed', 'sign_in_ended'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Step {
  call?: CommandName;
  args?: Json;
  browser?: 'approve' | 'deny';
  stripe?: 'account_updated';
  mode?: Mode;
}
interface Scenario {
  identities?: { connect_account?: string };
  steps: Step[];
}

function withService(v: Json): Json {
  if (typeof v === 'string') return v.replaceAll(CONNECT_SERVICE_ARG, MEMORY_CONNECT_SERVICE).replaceAll(HUB_ARG, MEMORY_HUB);
  if (Array.isArray(v)) return v.map(withService);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withService(x)]));
  return v;
}

/** Command arguments that carry a secret: the transcript names them, never keeps them. */
const SECRET_ARGS = ['secret_key', 'webhook_secret'];
function redacted(args: Json): Json {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return args;
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, SECRET_ARGS.includes(k) ? '<secret>' : v]));
}

const settle = () => new Promise((r) => setTimeout(r, 5));

async function record(name: string, scenario: Scenario): Promise<Json> {
  const b = new MemoryBackend({ now: () => 1_800_000_000 });
  const log: { event: string; payload: Json }[] = [];
  for (const e of EVENTS) void b.on(e, (payload) => log.push({ event: e, payload: payload as Json }));
  // The shell opens the system browser through its notifier; the memory backend keeps a list.
  const opened = b.openedUrls;
  const push = opened.push.bind(opened);
  opened.push = (...urls: string[]) => {
    for (const url of urls) log.push({ event: 'opened_in_browser', payload: { url } });
    return push(...urls);
  };
  const steps: Json[] = [];
  for (const step of scenario.steps) {
    const from = log.length;
    const entry: Record<string, Json> = {};
    if (step.call) {
      const args = withService(step.args ?? null);
      entry.call = step.call;
      if (args !== null) entry.args = redacted(args);
      try {
        const call = b.call.bind(b) as (c: CommandName, ...a: unknown[]) => Promise<unknown>;
        const result = await (args === null ? call(step.call) : call(step.call, args));
        entry.ok = (result ?? null) as Json;
      } catch (e) {
        if (e instanceof Error) throw e;
        entry.err = e as Json;
      }
    } else if (step.browser) {
      entry.browser = step.browser;
      const account = scenario.identities?.connect_account;
      if (step.browser === 'deny') b.denySignIn();
      else b.approveSignIn(account ? { accountId: account } : {});
    } else if (step.stripe === 'account_updated' && step.mode) {
      entry.stripe = step.stripe;
      entry.mode = step.mode;
      b.completeAccountOnboarding(step.mode);
    } else {
      throw new Error(`${name}: unknown step ${JSON.stringify(step)}`);
    }
    await settle();
    entry.events = log.slice(from) as unknown as Json;
    steps.push(entry);
  }
  return { scenario: name, steps };
}

// ---- normalization (src-tauri/tests/contract/normalize.rs does exactly the same) ----

/** Clock values: `created`, `updated` and every `…_at`. */
const isTimeKey = (k: string) => k === 'created' || k === 'updated' || k.endsWith('_at');
const ACCOUNT_STATUS_KEEPS = ['account_id', 'mode', 'checked_at'];

interface Names {
  scenario: string;
  service: string;
  hub: string | null;
  accounts: string[];
  events: string[];
  /** Generated ids of `GENERATED` seen so far, per prefix. */
  generated: Record<string, string[]>;
}

/** Generated ids numbered when they start a word. */
const GENERATED = ['st_', 'we_', 'hsk_'];

function normalize(v: Json, names: Names): Json {
  if (Array.isArray(v)) return v.map((x) => normalize(x, names));
  if (v && typeof v === 'object') {
    const isAccountStatus = 'business_name' in v && 'requirements' in v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        if (isTimeKey(k) && typeof x === 'number') return [k, 0];
        if (isAccountStatus && !ACCOUNT_STATUS_KEEPS.includes(k)) return [k, '<stripe>'];
        return [k, normalize(x, names)];
      }),
    );
  }
  return typeof v === 'string' ? normalizeText(v, names) : v;
}

function normalizeText(s: string, names: Names): string {
  // The longer address first: one may be the other's prefix (ports of different lengths).
  const addresses: [string, string][] = [[names.service, '<connect-service>']];
  if (names.hub !== null) addresses.push([names.hub, '<hub>']);
  addresses.sort((a, b) => b[0].length - a[0].length);
  let text = s;
  for (const [address, name] of addresses) text = text.replaceAll(address, name);
  for (const prefix of GENERATED) {
    const seen = (names.generated[prefix] ??= []);
    text = text.replace(new RegExp(`(?<![A-Za-z0-9_])${prefix}([A-Za-z0-9_]+)`, 'g'), (_, id: string) => {
      let n = seen.indexOf(id) + 1;
      if (n === 0) n = seen.push(id);
      return `${prefix}<${n}>`;
    });
  }
  for (const [prefix, seen] of [
    ['acct_', names.accounts],
    ['evt_', names.events],
  ] as const)
    text = text.replace(new RegExp(`${prefix}([A-Za-z0-9_]+)`, 'g'), (_, id: string) => {
      let n = seen.indexOf(id) + 1;
      if (n === 0) n = seen.push(id);
      return `${prefix}<${n}>`;
    });
  text = text.replace(/127\.0\.0\.1(:|%3A)([A-Za-z0-9_]+)/g, (all, sep: string, port: string) =>
    /^[0-9]+$/.test(port) ? `127.0.0.1${sep}<port>` : all,
  );
  text = text.replace(/(pk_(?:test|live)_)([A-Za-z0-9_]+)/g, (all, prefix: string) =>
    names.scenario.includes(all) ? all : `${prefix}<issued>`,
  );
  for (const param of ['state', 'code_challenge'])
    text = text.replace(new RegExp(`([?&]${param}=)[^&#]*`, 'g'), '$1<random>');
  return text;
}

/** Every value under `key`, replaced by `f(value)` (to write an older shell's answers). */
function rewrite(v: Json, key: string, f: (x: Json) => Json): Json {
  if (Array.isArray(v)) return v.map((x) => rewrite(x, key, f));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === key ? f(x) : rewrite(x, key, f)]));
  return v;
}

async function replay(file: string): Promise<{ got: Json; transcript: Json }> {
  const text = readFileSync(join(DIR, 'scenarios', file), 'utf8');
  const transcript = JSON.parse(readFileSync(join(DIR, 'transcripts', file), 'utf8')) as Json;
  const raw = await record(file.replace(/\.json$/, ''), JSON.parse(text) as Scenario);
  const got = normalize(raw, { scenario: text, service: MEMORY_CONNECT_SERVICE, hub: MEMORY_HUB, accounts: [], events: [], generated: {} });
  return { got, transcript };
}

const scenarios = readdirSync(join(DIR, 'scenarios'))
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('the memory backend answers as the shell recorded', () => {
  test('there are scenarios', () => expect(scenarios.length).toBeGreaterThan(0));
  for (const file of scenarios) {
    const name = file.replace(/\.json$/, '');
    test(name, async () => {
      const { got, transcript } = await replay(file);
      expect(got).toEqual(transcript);
    });
  }
});

describe('the comparison bites', () => {
  // The shell before the store-profile redesign: no account status after connecting and the
  // mode not asked of the Connect service. The memory backend of today would pass a browser
  // test that such a shell fails; against that shell's transcript it fails here.
  test('a shell that shows no account status after connecting is not the memory backend', async () => {
    const { got, transcript } = await replay('connect-test-then-live.json');
    const older = rewrite(transcript, 'account', () => null);
    expect(older).not.toEqual(transcript);
    expect(got).not.toEqual(older);
  });

  test('a shell that does not ask for the mode is not the memory backend', async () => {
    const { got, transcript } = await replay('connect-test-then-live.json');
    const older = JSON.parse(JSON.stringify(transcript).replaceAll(/&mode=(test|live)/g, '')) as Json;
    expect(older).not.toEqual(transcript);
    expect(got).not.toEqual(older);
  });
});
