/**
 * The onboarding checklist as a pure function of real state: the connection (what the shell
 * knows is stored, with each mode's account status as the mirror holds it) and the mirror's
 * checklist facts.
 *
 * Invariant: a step is never ticked by a click alone; it is done only when the state says so,
 * and every step that is not done says why in words a store owner understands.
 */
import type { AccountStatus, ChecklistFacts, ConnectionStatus, KeyHubStatus, Mode, ModeFacts, WebhookCheck } from './backend/types';
import { formatDay } from './time';
import { rejectionAdvice, TEST_CARD } from './webhook';

export type StepId = 'method' | 'credentials' | 'webhook' | 'receiving' | 'test_payment' | 'account' | 'go_live';
export type StepState = 'done' | 'todo' | 'blocked';

export interface Step {
  id: StepId;
  title: string;
  state: StepState;
  /** Why it is not done (todo/blocked), or what proves it is (done). */
  detail: string;
}

export interface ChecklistInput {
  connection: ConnectionStatus;
  facts: ChecklistFacts;
  /** Stripe's answer about a key-mode mode's webhook endpoints (`check_webhook_endpoint`), once asked. */
  webhookChecks?: Partial<Record<Mode, WebhookCheck>>;
  /** Which key modes have live updates through the FluxStore hub on (`key_hub`). */
  keyHub?: readonly KeyHubStatus[];
}

export interface Checklist {
  steps: Step[];
  done: boolean;
  /** The first step that is not done, or null when all are. */
  current: StepId | null;
}

const MODES: readonly Mode[] = ['test', 'live'];
const hasWebhookSecret = (c: ConnectionStatus, m: Mode) => c[m].secrets.some((s) => s.kind === 'webhook_secret');
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The account whose readiness the checklist judges: the live one once live is connected (that
 * is the one that must take real payments), else the test one; null while nothing is connected.
 */
export function checklistAccount(c: ConnectionStatus): { mode: Mode; account: AccountStatus | null } | null {
  for (const mode of ['live', 'test'] as const) if (c[mode].connected) return { mode, account: c[mode].account };
  return null;
}

function credentialsDone(c: ConnectionStatus): string {
  const connected = MODES.filter((m) => c[m].connected);
  const which = connected.length === 2 ? 'Test and live' : capital(connected[0]);
  if (connected.every((m) => c[m].via === 'connect'))
    return `${which} ${connected.length === 2 ? 'accounts' : 'account'} connected through Stripe Connect.`;
  if (connected.every((m) => c[m].via === 'keys'))
    return c.sample_store ? `${which} keys kept in memory for the sample store.` : `${which} keys saved in the keyring.`;
  return connected.map((m) => `${capital(m)}: ${c[m].via === 'connect' ? 'Stripe Connect' : 'API keys'}.`).join(' ');
}

export function humanRequirement(req: string): string {
  const known: Record<string, string> = {
    external_account: 'a bank account for payouts',
    'individual.verification.document': 'an identity document',
    'business_profile.url': 'your business website',
    tos_acceptance: 'acceptance of Stripe’s terms',
  };
  return known[req] ?? req.replace(/[._]/g, ' ');
}

export function accountWhy(acc: AccountStatus): string {
  const missing = [...new Set([...acc.requirements.past_due, ...acc.requirements.currently_due])].map(humanRequirement);
  const off = [!acc.charges_enabled && 'Charges', !acc.payouts_enabled && 'payouts'].filter(Boolean).join(' and ');
  const needs = missing.length ? ` Stripe still needs ${missing.join(', ')}.` : '';
  return `${off.charAt(0).toUpperCase()}${off.slice(1)} are not enabled yet.${needs} Finish Stripe onboarding.`;
}

/** The newest arrival over both modes by one road (webhook, hub feed or polling), 0 when none. */
const newest = (facts: ChecklistFacts, key: 'last_webhook_at' | 'last_feed_at' | 'last_polled_at') =>
  Math.max(facts.test[key] ?? 0, facts.live[key] ?? 0);

/** Which road brings the events, in words: deliveries are told apart from polled events. */
function receivingDetail(facts: ChecklistFacts, keyModes: readonly Mode[]): string {
  const webhook = newest(facts, 'last_webhook_at') > 0;
  const feed = newest(facts, 'last_feed_at') > 0;
  const polled = newest(facts, 'last_polled_at') > 0;
  const roads: string[] = [];
  if (webhook) roads.push('Webhook deliveries from Stripe reach the relay and are verified.');
  if (feed) roads.push('FluxStore’s hub announces new events.');
  if (polled)
    roads.push(
      webhook || feed
        ? 'Reading Stripe’s events API works too (it fills any gap).'
        : 'Events arrive by reading Stripe’s events API every 2 minutes.',
    );
  if (!webhook && !feed && keyModes.length > 0)
    roads.push('No webhook delivery has reached FluxStore yet, so a new order shows up within about 2 minutes, not seconds.');
  return roads.join(' ');
}

/** Why a mode's payment step is not done yet, naming the history that does not count. */
function notSince(f: ModeFacts, what: string): string {
  if (f.earlier_paid_orders === 0 || f.connected_at === null) return `No paid ${what} order yet.`;
  const n = f.earlier_paid_orders;
  const count = n >= 1000 ? '1,000 or more' : String(n);
  return `No paid ${what} order since you connected on ${formatDay(f.connected_at)}; the ${count} paid ${n === 1 ? 'order' : 'orders'} from before that ${n === 1 ? 'does' : 'do'} not prove today’s setup.`;
}

export function deriveChecklist({ connection: c, facts, webhookChecks = {}, keyHub = [] }: ChecklistInput): Checklist {
  const steps: Step[] = [];
  const isConnect = c.method === 'connect';
  const anyConnected = c.test.connected || c.live.connected;
  // Only a mode connected with API keys needs a webhook; Connect reads Stripe's events API.
  const keyModes = MODES.filter((m) => c[m].via === 'keys');
  // Key modes whose events Stripe sends to the FluxStore hub (no signing secret needed there).
  const hubModes = keyModes.filter((m) => keyHub.some((k) => k.mode === m && k.on));
  const ended = MODES.map((m) => c[m].disconnected_reason).find((r) => r !== null) ?? null;

  steps.push(
    c.method
      ? { id: 'method', title: 'Choose how to connect', state: 'done', detail: isConnect ? 'Stripe Connect.' : 'Manual API keys.' }
      : { id: 'method', title: 'Choose how to connect', state: 'todo', detail: 'Choose Stripe Connect (recommended) or manual API keys.' },
  );

  const credTitle = isConnect ? 'Connect your Stripe account' : 'Enter your API keys';
  if (!c.method) steps.push({ id: 'credentials', title: credTitle, state: 'blocked', detail: 'Choose a method first.' });
  else if (anyConnected) steps.push({ id: 'credentials', title: credTitle, state: 'done', detail: credentialsDone(c) });
  else
    steps.push({
      id: 'credentials',
      title: credTitle,
      state: 'todo',
      detail: isConnect
        ? (ended ?? 'Not connected yet: authorize FluxStore at Stripe; you come back here automatically.')
        : 'No keys saved yet. Paste your test publishable key (pk_test_…) and secret key (sk_test_… or rk_test_…).',
    });

  const webhookTitle = 'Webhook endpoint and signing secret';
  if (keyModes.length === 0 && (isConnect || anyConnected))
    steps.push({ id: 'webhook', title: webhookTitle, state: 'done', detail: 'Not needed with Connect: the FluxStore hub announces new events and FluxStore fetches them from Stripe; Stripe’s events API fills any gap.' });
  else if (!anyConnected) steps.push({ id: 'webhook', title: webhookTitle, state: 'blocked', detail: 'Save your API keys first.' });
  else if (hubModes.length > 0 && !keyModes.some((m) => hasWebhookSecret(c, m))) {
    // The hub's endpoint is the app's: Stripe's answer about it decides, as for the relay's.
    const failing = hubModes.map((m) => webhookChecks[m]).find((w) => w && !w.ok);
    const checks = hubModes.map((m) => webhookChecks[m]).filter((w): w is WebhookCheck => !!w);
    const on = `Live updates through the FluxStore hub are on for ${hubModes.join(' and ')} mode${hubModes.length === 2 ? 's' : ''} (no signing secret needed: FluxStore fetches each announced event from Stripe with your key).`;
    if (failing) steps.push({ id: 'webhook', title: webhookTitle, state: 'todo', detail: `${on} But: ${failing.message}` });
    else steps.push({ id: 'webhook', title: webhookTitle, state: 'done', detail: [on, ...checks.map((w) => w.message)].join(' ') });
  } else if (keyModes.some((m) => hasWebhookSecret(c, m))) {
    // Stripe's own answer about its endpoints, where FluxStore could ask (online, key modes).
    const checks = keyModes.map((m) => webhookChecks[m]).filter((w): w is WebhookCheck => !!w);
    // A mode whose verified deliveries arrive works, even where Stripe lists no endpoint for
    // it (`stripe listen` forwards without one): its check is shown, not held against it.
    const delivering = (m: Mode) => (facts[m].last_webhook_at ?? 0) > 0;
    const failingMode = keyModes.find((m) => webhookChecks[m] && !webhookChecks[m]?.ok && !delivering(m));
    const failing = failingMode ? webhookChecks[failingMode] : undefined;
    const where = c.sample_store ? 'kept for this session' : 'saved in the keyring';
    if (failing) steps.push({ id: 'webhook', title: webhookTitle, state: 'todo', detail: `Signing secret ${where}, but: ${failing.message}` });
    else if (checks.some((w) => !w.ok))
      steps.push({
        id: 'webhook',
        title: webhookTitle,
        state: 'done',
        detail: `Signing secret ${where}, and verified deliveries arrive (from \`stripe listen\` or an endpoint Stripe does not list for this key). ${checks.filter((w) => !w.ok).map((w) => w.message).join(' ')}`,
      });
    else if (checks.length)
      steps.push({ id: 'webhook', title: webhookTitle, state: 'done', detail: `Signing secret ${where}. ${checks.map((w) => w.message).join(' ')}` });
    else steps.push({ id: 'webhook', title: webhookTitle, state: 'done', detail: `Signing secret ${where}.` });
  } else
    steps.push({
      id: 'webhook',
      title: webhookTitle,
      state: 'todo',
      detail:
        'No signing secret (whsec_…) saved: Stripe’s webhook deliveries cannot be verified until it is, so new orders arrive only when FluxStore reads Stripe’s events API (every 2 minutes).',
    });

  const last = Math.max(facts.test.last_event_at ?? 0, facts.live.last_event_at ?? 0);
  const receivingTitle = 'Events arriving';
  if (last > 0) steps.push({ id: 'receiving', title: receivingTitle, state: 'done', detail: receivingDetail(facts, keyModes) });
  else if (!anyConnected) steps.push({ id: 'receiving', title: receivingTitle, state: 'blocked', detail: 'Connect Stripe first.' });
  else if (facts.last_rejection && !(facts.last_rejection.code === 'no_signing_secret' && (hasWebhookSecret(c, 'test') || hasWebhookSecret(c, 'live'))))
    steps.push({ id: 'receiving', title: receivingTitle, state: 'todo', detail: rejectionAdvice(facts.last_rejection.code).reason });
  else if (keyModes.length === 0)
    steps.push({
      id: 'receiving',
      title: receivingTitle,
      state: 'todo',
      detail: 'No event has been read from Stripe yet. FluxStore asks Stripe for new events right after connecting and every 2 minutes.',
    });
  else if (hubModes.length > 0 && !c.relay.listening)
    steps.push({
      id: 'receiving',
      title: receivingTitle,
      state: 'todo',
      detail: 'No event has arrived through the FluxStore hub yet. Make a test payment: Stripe sends its events to the hub, and FluxStore fetches them within seconds.',
    });
  else if (!c.relay.listening)
    steps.push({ id: 'receiving', title: receivingTitle, state: 'blocked', detail: 'The relay starts once a signing secret is saved.' });
  else
    steps.push({
      id: 'receiving',
      title: receivingTitle,
      state: 'todo',
      detail: 'No verified event has arrived yet: the webhook is not reaching FluxStore. Check the endpoint URL and the delivery log in the Stripe Dashboard.',
    });

  const paidTest = facts.test.first_paid_order;
  if (paidTest) steps.push({ id: 'test_payment', title: 'Test payment', state: 'done', detail: `Order ${paidTest[0]} is paid.` });
  else if (!c.test.connected)
    steps.push({
      id: 'test_payment',
      title: 'Test payment',
      state: 'blocked',
      detail: c.test.disconnected_reason ?? 'Connect with test keys (or a test-mode account) first.',
    });
  else
    steps.push({
      id: 'test_payment',
      title: 'Test payment',
      state: 'todo',
      detail: `${notSince(facts.test, 'test')} Place a test order with card ${TEST_CARD}; this ticks as soon as it shows as paid.`,
    });

  const judged = checklistAccount(c);
  const acc = judged?.account ?? null;
  const accTitle = 'Charges and payouts enabled';
  if (!judged) steps.push({ id: 'account', title: accTitle, state: 'blocked', detail: 'Connect Stripe to read the account status.' });
  else if (!acc)
    steps.push({
      id: 'account',
      title: accTitle,
      state: 'todo',
      detail: `FluxStore has not read the ${judged.mode} account’s status from Stripe yet. Refresh to ask Stripe now.`,
    });
  else if (acc.charges_enabled && acc.payouts_enabled)
    steps.push({ id: 'account', title: accTitle, state: 'done', detail: `Both enabled on ${acc.account_id}.` });
  else steps.push({ id: 'account', title: accTitle, state: 'todo', detail: accountWhy(acc) });

  const paidLive = facts.live.first_paid_order;
  if (paidLive)
    steps.push({ id: 'go_live', title: 'Go live', state: 'done', detail: `Live order ${paidLive[0]} is paid. Refund it from its order page.` });
  else if (!c.method)
    steps.push({ id: 'go_live', title: 'Go live', state: 'blocked', detail: 'Choose a method and prove a test payment first.' });
  else if (!c.live.connected)
    steps.push({
      id: 'go_live',
      title: 'Go live',
      state: 'todo',
      detail: c.live.disconnected_reason ?? (isConnect ? 'Connect your live Stripe account.' : 'Add your live keys (pk_live_… and sk_live_…).'),
    });
  else if (c.live.via === 'keys' && !hasWebhookSecret(c, 'live'))
    steps.push({
      id: 'go_live',
      title: 'Go live',
      state: 'todo',
      detail: 'Live mode has its own webhook endpoint: add it with live mode on in the Stripe Dashboard and save its signing secret (whsec_…).',
    });
  else
    steps.push({
      id: 'go_live',
      title: 'Go live',
      state: 'todo',
      detail: `${notSince(facts.live, 'live')} Place a real order on your smallest package with your own card; it ticks when paid. Then refund it from the order page.`,
    });

  const current = steps.find((s) => s.state !== 'done')?.id ?? null;
  return { steps, done: current === null, current };
}
