/**
 * App-wide reactive state: the backend, the selected mode, online status, the connection,
 * checklist facts and account statuses, and a `revision` that bumps on every applied event so
 * views re-read only what they show (no polling of whole lists).
 *
 * Invariant: `mode` is the single switch every view reads with; nothing shows rows of the
 * other mode.
 */
import type { Backend, BackendError } from './backend/api';
import { toBackendError } from './backend/errors';
import type { AccountStatus, ChecklistFacts, ConnectionStatus, Mode, SyncProgress } from './backend/types';
import { deriveChecklist, type Checklist } from './checklist';

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
  /** An order's session id when the order detail is open. */
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
  accounts = $state<Record<Mode, AccountStatus | null>>({ test: null, live: null });
  sync = $state<SyncProgress | null>(null);
  /** Bumps on every applied event or connection change: views re-read on it. */
  revision = $state(0);
  loadError = $state<BackendError | null>(null);
  /** Unix seconds, ticking each minute so relative times and urgencies stay right. */
  now = $state(Math.floor(Date.now() / 1000));

  checklist: Checklist | null = $derived(
    this.connection && this.facts
      ? deriveChecklist({ connection: this.connection, facts: this.facts, accounts: this.accounts })
      : null,
  );

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async start(): Promise<void> {
    await this.backend.on('event_applied', () => void this.refreshFacts());
    await this.backend.on('online_changed', (p) => {
      this.online = p.online;
      this.revision++;
    });
    await this.backend.on('account_changed', (s) => {
      this.connection = s;
      this.online = s.online;
      void this.refreshAccounts(false);
      void this.refreshFacts();
    });
    await this.backend.on('sync_progress', (p) => {
      this.sync = p.done && !p.gap ? null : p;
    });
    await this.reload();
  }

  async reload(): Promise<void> {
    try {
      this.connection = await this.backend.call('connection_status');
      this.online = this.connection.online;
      await Promise.all([this.refreshFacts(), this.refreshAccounts(false)]);
      this.loadError = null;
    } catch (e) {
      this.loadError = toBackendError(e);
    }
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

  /** Cached account status; `refresh` asks Stripe (needs the internet). */
  async refreshAccounts(refresh: boolean): Promise<BackendError | null> {
    let error: BackendError | null = null;
    const next: Record<Mode, AccountStatus | null> = { test: null, live: null };
    for (const mode of ['test', 'live'] as Mode[]) {
      try {
        next[mode] = await this.backend.call('account_status', { mode, refresh: refresh && !!this.connection?.[mode].connected });
      } catch (e) {
        error = toBackendError(e);
        next[mode] = await this.backend.call('account_status', { mode, refresh: false }).catch(() => null);
      }
    }
    this.accounts = next;
    return error;
  }

  setConnection(s: ConnectionStatus): void {
    this.connection = s;
    this.online = s.online;
    this.revision++;
  }
}
