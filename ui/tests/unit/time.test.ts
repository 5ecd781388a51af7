import { describe, expect, test } from 'vitest';
import { byUrgency, dayToUnix, formatDate, formatShortDate, isoDate, relative, SOON_SECONDS, urgency } from '../../src/lib/time';

const NOW = 1_800_000_000;

describe('dispute urgency', () => {
  test('overdue at and after the deadline', () => {
    expect(urgency(NOW, true, NOW)).toBe('overdue');
    expect(urgency(NOW - 1, true, NOW)).toBe('overdue');
  });
  test('soon under 72 hours, later from 72 hours on', () => {
    expect(urgency(NOW + 1, true, NOW)).toBe('soon');
    expect(urgency(NOW + SOON_SECONDS - 1, true, NOW)).toBe('soon');
    expect(urgency(NOW + SOON_SECONDS, true, NOW)).toBe('later');
    expect(urgency(NOW + 30 * 86400, true, NOW)).toBe('later');
  });
  test('no deadline, a 0 deadline, or nothing to respond to is none', () => {
    expect(urgency(null, true, NOW)).toBe('none');
    expect(urgency(0, true, NOW)).toBe('none');
    expect(urgency(NOW - 10, false, NOW)).toBe('none');
  });
  test('the queue puts the most urgent and earliest first', () => {
    const d = (id: string, due: number | null, needs: boolean) => ({ id, due_by: due, needs_response: needs, created: 0 });
    const q = byUrgency(
      [d('closed', NOW - 50, false), d('later', NOW + 9 * 86400, true), d('soon2', NOW + 50 * 3600, true), d('soon1', NOW + 3600, true), d('over', NOW - 5, true)],
      NOW,
    );
    expect(q.map((x) => x.id)).toEqual(['over', 'soon1', 'soon2', 'later', 'closed']);
  });
});

describe('dates', () => {
  test('relative times', () => {
    expect(relative(NOW + 3 * 86400, NOW, 'en')).toBe('in 3 days');
    expect(relative(NOW - 2 * 3600, NOW, 'en')).toBe('2 hours ago');
    expect(relative(NOW, NOW, 'en')).toBe('now');
  });
  test('date inputs become the start or end of the local day', () => {
    const start = dayToUnix('2026-11-26', false) as number;
    const end = dayToUnix('2026-11-26', true) as number;
    expect(end - start).toBe(86399);
    expect(new Date(start * 1000).getDate()).toBe(26);
    expect(dayToUnix('', false)).toBeNull();
    expect(dayToUnix('26/11/2026', false)).toBeNull();
  });
});

describe('table dates', () => {
  test('the short form is shorter than the full one and names the same day', () => {
    const short = formatShortDate(NOW, 'en-US');
    expect(short.length).toBeLessThan(formatDate(NOW, 'en-US').length);
    const d = new Date(NOW * 1000);
    expect(short).toContain(String(d.getDate()));
    expect(short).not.toMatch(/\n/);
  });
  test('the machine form is ISO 8601 in UTC', () => {
    expect(isoDate(NOW)).toBe('2027-01-15T08:00:00.000Z');
  });
});
