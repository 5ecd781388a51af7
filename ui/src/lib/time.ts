/**
 * Times from unix seconds, and the dispute urgency rule.
 *
 * Invariant: every function takes `now` explicitly (unix seconds) so results are reproducible.
 */

export function formatDate(unix: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(unix * 1000));
}

/** Compact date and time for table cells, e.g. "11/26/26, 9:05 PM": fits one line. */
export function formatShortDate(unix: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(unix * 1000));
}

/**
 * A deadline on two short lines in the owner's time zone: the day ("Dec 5, 2026") and the
 * time with the zone's name ("9:05 PM CET").
 */
export function formatDeadline(unix: number, locale?: string, timeZone?: string): [string, string] {
  const d = new Date(unix * 1000);
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(d);
  const time = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZoneName: 'short', timeZone }).format(d);
  return [day, time];
}

/** Machine-readable form for `<time datetime>`. */
export function isoDate(unix: number): string {
  return new Date(unix * 1000).toISOString();
}

export function formatDay(unix: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(unix * 1000));
}

/** "in 3 days", "2 hours ago". */
export function relative(unix: number, now: number, locale?: string): string {
  const diff = unix - now;
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

export type Urgency = 'overdue' | 'soon' | 'later' | 'none';

/** 72 hours: under this the evidence deadline is "soon". */
export const SOON_SECONDS = 72 * 3600;

/**
 * How urgent a dispute's evidence deadline is. Closed disputes and those without a deadline
 * (Stripe sends none or 0 when the bank allows no response) are `none`.
 */
export function urgency(dueBy: number | null, needsResponse: boolean, now: number): Urgency {
  if (!needsResponse || dueBy === null || dueBy === 0) return 'none';
  if (dueBy <= now) return 'overdue';
  if (dueBy - now < SOON_SECONDS) return 'soon';
  return 'later';
}

const RANK: Record<Urgency, number> = { overdue: 0, soon: 1, later: 2, none: 3 };

/** Queue order: most urgent first, then earliest deadline, then newest. */
export function byUrgency<T extends { due_by: number | null; needs_response: boolean; created: number }>(
  items: T[],
  now: number,
): T[] {
  return [...items].sort(
    (a, b) =>
      RANK[urgency(a.due_by, a.needs_response, now)] - RANK[urgency(b.due_by, b.needs_response, now)] ||
      (a.due_by ?? Infinity) - (b.due_by ?? Infinity) ||
      b.created - a.created,
  );
}

/** `<input type="date">` value (local day) → unix seconds at its start or end. */
export function dayToUnix(value: string, end: boolean): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const [y, m, d] = value.split('-').map(Number);
  const t = end ? new Date(y, m - 1, d, 23, 59, 59) : new Date(y, m - 1, d, 0, 0, 0);
  return Math.floor(t.getTime() / 1000);
}
