/**
 * App-wide reactive state: the backend, the selected mode, online status, the connection (with
 * each mode's account status as the mirror holds it), checklist facts, the Connect sign-in, and
 * a `revision` that bumps on every applied event so views re-read only what they show (no
 * polling of whole lists).
 *
 * Invariants: `mode` is the single switch every view reads with; nothing shows rows of the
 * other mode. The account status has no cache of its own: it is `connection[mode].account`,
 * re-read when the shell says the connection changed or an `account.updated` was stored.
 */
import type { Backend, BackendError } from './backend/api';
import { toBackendError } from './backend/errors';
import type {
  ChecklistFacts,
  ConnectionStatus,
  HubFeedStatus,
  KeyHubStatus,
  Mode,
  Notice,
  PendingUpdate,
  SyncProgress,
  WebhookCheck,
} from './backend/types';
import { deriveChecklist, type Checklist } from './checklist';
import { SignInFlow } from './signin.svelte';

export type View = 'onboarding' | 'gateways' | 'orders' | 'disputes' | 'subscriptions' | 'activity';
export const VIEWS: { id: View; label: string }[] = [
  { id: 'onboarding', label: 'Get started' },
  { id: 'gateways', label: 'Payment Gateways' },
  { id: 'orders', label: 'Orders' },
  { id: 'disputes', label: 'Disputes' },
  { id: 'subscriptions', label: 'Subscriptions' },
  { id: 'activity', label: 'Activity' },
];

export interface Route {
  view: View;
  /** An order's session id when the order detail is open; a dispute's id when its workbench is. */
  id: string | null;
}

export function parseRoute(hash: string): Route | null {
  const [view, id] = hash.replace(/^#\/?/, '').split('/');
  if (!VIEWS.some((v) => v.id === view)) return null;
  return { view: view as View, id: id ? decodeURIComponent(id) : null };
}

export function routeHref(view: View, id: string | null = null): string {
  return `#/${view}${id ? `/${encodeURIComponent(id)}` : ''}`;
}

export class AppState {
  readonly backend: Backend;
  mode = $state<Mode>('test');
  online = $state(true);
  connection = $state<ConnectionStatus | null>(null);
  facts = $state<ChecklistFacts | null>(null);
  sync = $state<SyncProgress | null>(null);
  /** Stripe's answer about each key-mode mode's webhook endpoints (asked online, on connection changes). */
  webhookChecks = $state<Partial<Record<Mode, WebhookCheck>>>({});
  /** Notices the shell raised while the window was open, newest first (a few). */
  notices = $state<Notice[]>([]);
  /** Each mode's live feed through the FluxStore hub (live, polling, off; the last doorbell). */
  hubFeed = $state<HubFeedStatus[]>([]);
  /** Counts `hub_feed_changed` events; per mode, the count at its latest event. An answer to
   * `hub_feed` asked for before a mode's latest event is older than that event (events and
   * answers may reach the window in either order) and must not undo it. */
  #hubFeedEvents = 0;
  #hubFeedEventAt: Partial<Record<Mode, number>> = {};
  /** Whether each mode's API keys get live updates through the FluxStore hub (the owner's choice). */
  keyHub = $state<KeyHubStatus[]>([]);
  /** Bumps on every applied event or connection change: views re-read on it. */
  revision = $state(0);
  loadError = $state<BackendError | null>(null);
  /** The mirror's upgrade running while the app starts (the commands wait for it), else null. */
  updating = $state<PendingUpdate | null>(null);
  /** Unix seconds, ticking each minute so relative times and urgencies stay right. */
  now = $state(Math.floor(Date.now() / 1000));

  readonly signIn: SignInFlow;

  checklist: Checklist | null = $derived(
    this.connection && this.facts
      ? deriveChecklist({ connection: this.connection, facts: this.facts, webhookChecks: this.webhookChecks, keyHub: this.keyHub })
      : null,
  );

  constructor(backend: Backend) {
    this.backend = backend;
    this.signIn = new SignInFlow(backend);
  }

  async start(): Promise<void> {
    await this.backend.on('event_applied', (e) => {
      void this.refreshFacts();
      // The mirror's account status changed with it; the shell announces only the event.
      if (e.event_type === 'account.updated') void this.refreshConnection();
    });
    await this.backend.on('online_changed', (p) => {
      this.online = p.online;
      this.revision++;
    });
    await this.backend.on('account_changed', (s) => {
      this.setConnection(s);
      void this.refreshFacts();
      void this.checkWebhooks();
      void this.refreshHubFeed();
    });
    await this.backend.on('sign_in_ended', (e) => this.signIn.ended(e));
    await this.backend.on('notice_shown', (n) => {
      this.notices = [n, ...this.notices.filter((x) => x.fact !== n.fact)].slice(0, 5);
    });
    await this.backend.on('sync_progress', (p) => {
      this.sync = p.done && !p.gap ? null : p;
    });
    await this.backend.on('hub_feed_changed', (s) => {
      this.#hubFeedEvents += 1;
      this.#hubFeedEventAt[s.mode] = this.#hubFeedEvents;
      this.hubFeed = [...this.hubFeed.filter((f) => f.mode !== s.mode), s];
    });
    try {
      this.updating = (await this.backend.call('startup_status')).updating;
    } catch {
      // An older shell without the command: nothing to say while it opens.
    }
    // Answers once the store is open (after the upgrade, when one runs).
    await this.reload();
    this.updating = null;
  }

  dismissNotice(fact: string): void {
    this.notices = this.notices.filter((n) => n.fact !== fact);
  }

  async reload(): Promise<void> {
    try {
      this.connection = await this.backend.call('connection_status');
      this.online = this.connection.online;
      await this.refreshFacts();
      this.keyHub = await this.backend.call('key_hub');
      void this.checkWebhooks();
      await this.#readHubFeed();
      this.loadError = null;
    } catch (e) {
      this.loadError = toBackendError(e);
    }
  }

  /** Ask the shell for each mode's live feed (after a connection change or "Sync now"). */
  async refreshHubFeed(): Promise<void> {
    try {
      await this.#readHubFeed();
      this.keyHub = await this.backend.call('key_hub');
    } catch (e) {
      this.loadError = toBackendError(e);
    }
  }

  async #readHubFeed(): Promise<void> {
    await this.takeHubFeed(() => this.backend.call('hub_feed'));
  }

  /** Take an answer listing each mode's live feed (`hub_feed`, `sync_now`, `set_hub`). */
  async takeHubFeed(ask: () => Promise<HubFeedStatus[]>): Promise<void> {
    const asked = this.#hubFeedEvents;
    const answer = await ask();
    // A mode whose state changed since the question keeps the newer state.
    this.hubFeed = answer.map((f) =>
      (this.#hubFeedEventAt[f.mode] ?? 0) > asked ? (this.hubFeed.find((h) => h.mode === f.mode) ?? f) : f,
    );
  }

  async refreshFacts(): Promise<void> {
    try {
      this.facts = await this.backend.call('checklist_facts');
      this.now = Math.floor(Date.now() / 1000);
      this.revision++;
    } catch (e) {
      this.loadError = toBackendError(e);
    }
  }

  /**
   * Ask Stripe (through the shell) whether each mode connected with keys and a signing secret
   * (or live updates through the hub) has an enabled endpoint with the 12 events. Offline, or when Stripe cannot be asked, the
   * step keeps what the keyring says; nothing is retried in a loop.
   */
  async checkWebhooks(): Promise<void> {
    const c = this.connection;
    const checks: Partial<Record<Mode, WebhookCheck>> = {};
    if (c && c.online && !c.sample_store) {
      for (const mode of ['test', 'live'] as const) {
        const m = c[mode];
        const hub = this.keyHub.some((k) => k.mode === mode && k.on);
        if (m.via !== 'keys' || !(hub || m.secrets.some((s) => s.kind === 'webhook_secret'))) continue;
        try {
          checks[mode] = await this.backend.call('check_webhook_endpoint', { mode });
        } catch {
          // A restricted key without webhook read, or Stripe unreachable: not judged.
        }
      }
    }
    this.webhookChecks = checks;
  }

  async refreshConnection(): Promise<void> {
    try {
      this.setConnection(await this.backend.call('connection_status'));
    } catch (e) {
      this.loadError = toBackendError(e);
    }
  }

  /** Ask Stripe for `mode`'s account status now (needs the internet); rejects with a `BackendError`. */
  async refreshAccount(mode: Mode): Promise<void> {
    try {
      await this.backend.call('account_status', { mode, refresh: true });
    } catch (e) {
      throw toBackendError(e);
    }
    await this.refreshConnection();
  }

  setConnection(s: ConnectionStatus): void {
    this.connection = s;
    this.online = s.online;
    this.revision++;
  }
}
