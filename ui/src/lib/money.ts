/**
 * Money at the edge: integer minor units in, a localized string out.
 *
 * Invariant: Stripe's minor-unit exponents live in ONE table, the mirror's facts generated
 * from Rust (zero- and three-decimal currencies; everything else is two); Intl.NumberFormat
 * only renders. ISK is two-decimal in Stripe's API but whole krónur in practice, so whole
 * amounts show without decimals.
 */
import { MINOR_UNIT_EXPONENTS } from './backend/generated/facts';

export { MINOR_UNIT_EXPONENTS };

export function minorUnitExponent(currency: string): number {
  return MINOR_UNIT_EXPONENTS[currency.toUpperCase()] ?? 2;
}

/** Minor units → major units as a number (e.g. 1999 USD → 19.99, 1999 JPY → 1999). */
export function toMajor(minor: number, currency: string): number {
  return minor / 10 ** minorUnitExponent(currency);
}

/** Major units typed by the owner → integer minor units, or null when not a valid amount. */
export function parseMajor(input: string, currency: string): number | null {
  const exp = minorUnitExponent(currency);
  const s = input.trim().replace(/\s/g, '');
  const m = /^(\d+)(?:[.,](\d*))?$/.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > exp) return null;
  return Number(m[1]) * 10 ** exp + Number(frac.padEnd(exp, '0') || '0');
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, locale: string | undefined, digits: number): Intl.NumberFormat {
  const key = `${locale ?? ''}|${currency}|${digits}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formatters.set(key, f);
  }
  return f;
}

/** Digits Intl shows by default for this currency (ISK 0, JPY 0, KWD 3, USD 2). */
function intlDigits(currency: string, locale: string | undefined): number {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * The locale money is shown in: the one asked for, else the system's. A system with no
 * language set (the POSIX/"C" locale, e.g. `LANG=C.UTF-8`) gets ICU's POSIX variant, which
 * drops thousands separators and spaces the symbol (`¥ 1500`); people read `¥1,500`, so that
 * variant falls back to plain English.
 */
export function moneyLocale(locale?: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.NumberFormat(locale).resolvedOptions().locale;
  } catch {
    return locale;
  }
  return /-u-va-posix\b/i.test(resolved) ? resolved.replace(/-u-va-posix\b/i, '') : locale;
}

export function formatMoney(minor: number, currency: string, requested?: string): string {
  const locale = moneyLocale(requested);
  const cur = currency.toUpperCase();
  const exp = minorUnitExponent(cur);
  const whole = minor % 10 ** exp === 0;
  // Show fewer digits only where the currency itself has fewer (ISK) and nothing is lost.
  const digits = whole ? Math.min(exp, intlDigits(cur, locale)) : exp;
  try {
    return formatter(cur, locale, digits).format(toMajor(minor, cur));
  } catch {
    // An unknown ISO code: still show the right amount.
    return `${toMajor(minor, cur).toFixed(exp)} ${cur}`;
  }
}
