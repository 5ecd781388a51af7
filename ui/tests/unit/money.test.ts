import { describe, expect, test } from 'vitest';
import { formatMoney, MINOR_UNIT_EXPONENTS, minorUnitExponent, parseMajor, toMajor } from '../../src/lib/money';

// Intl uses narrow no-break spaces in some locales; compare with plain spaces.
const fmt = (minor: number, cur: string, locale = 'en-US') => formatMoney(minor, cur, locale).replace(/[\u00a0\u202f]/g, ' ');

describe('minor-unit table', () => {
  test('holds exactly Stripe’s zero- and three-decimal currencies', () => {
    const zero = Object.entries(MINOR_UNIT_EXPONENTS).filter(([, e]) => e === 0).map(([c]) => c).sort();
    const three = Object.entries(MINOR_UNIT_EXPONENTS).filter(([, e]) => e === 3).map(([c]) => c).sort();
    expect(zero).toEqual(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
    expect(three).toEqual(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);
  });
  test('everything else, ISK included, is two-decimal in Stripe’s API; case does not matter', () => {
    expect(minorUnitExponent('usd')).toBe(2);
    expect(minorUnitExponent('ISK')).toBe(2);
    expect(minorUnitExponent('jpy')).toBe(0);
    expect(minorUnitExponent('kwd')).toBe(3);
    expect(toMajor(1999, 'usd')).toBe(19.99);
    expect(toMajor(1999, 'jpy')).toBe(1999);
    expect(toMajor(5120, 'kwd')).toBe(5.12);
  });
});

describe('formatMoney', () => {
  test('groups thousands even where the system has no language set (the POSIX locale)', () => {
    expect(fmt(150000, 'jpy', 'en-US-u-va-posix')).toBe('¥150,000');
    expect(fmt(123456789, 'usd', 'en-US-u-va-posix')).toBe('$1,234,567.89');
  });

  test('two-decimal currencies', () => {
    expect(fmt(1999, 'usd')).toBe('$19.99');
    expect(fmt(100, 'USD')).toBe('$1.00');
    expect(fmt(0, 'usd')).toBe('$0.00');
    expect(fmt(123456789, 'eur', 'de-DE')).toBe('1.234.567,89 €');
  });
  test('zero-decimal JPY: the minor amount is whole yen', () => {
    expect(fmt(1200, 'jpy')).toBe('¥1,200');
    expect(fmt(500, 'JPY', 'ja-JP')).toBe('￥500');
    expect(fmt(1000, 'krw')).toBe('₩1,000');
  });
  test('three-decimal KWD keeps three digits', () => {
    expect(fmt(5120, 'kwd')).toBe('KWD 5.120');
    expect(fmt(9990, 'kwd')).toBe('KWD 9.990');
    expect(fmt(1500, 'bhd')).toBe('BHD 1.500');
  });
  test('ISK: two-decimal in the API, shown as whole krónur unless a fraction exists', () => {
    expect(fmt(100000, 'isk')).toBe('ISK 1,000');
    expect(fmt(1050, 'isk')).toBe('ISK 10.50');
  });
  test('negative amounts and an unknown currency still show the right number', () => {
    expect(fmt(-250, 'usd')).toBe('-$2.50');
    expect(formatMoney(1234, 'not-a-code', 'en-US')).toBe('12.34 NOT-A-CODE');
  });
});

describe('parseMajor', () => {
  test('typed amounts become integer minor units', () => {
    expect(parseMajor('1', 'usd')).toBe(100);
    expect(parseMajor('19.99', 'usd')).toBe(1999);
    expect(parseMajor('0,5', 'eur')).toBe(50);
    expect(parseMajor('1200', 'jpy')).toBe(1200);
    expect(parseMajor('5.12', 'kwd')).toBe(5120);
    expect(parseMajor(' 2. ', 'usd')).toBe(200);
  });
  test('too many decimals or garbage is refused', () => {
    expect(parseMajor('1.005', 'usd')).toBeNull();
    expect(parseMajor('1.5', 'jpy')).toBeNull();
    expect(parseMajor('abc', 'usd')).toBeNull();
    expect(parseMajor('-1', 'usd')).toBeNull();
    expect(parseMajor('', 'usd')).toBeNull();
  });
});

describe('money as people read it (one currency table, Intl for the symbol and separators)', () => {
  test('the examples of the issue', () => {
    expect(fmt(1500, 'jpy')).toBe('¥1,500');
    expect(fmt(2500, 'usd')).toBe('$25.00');
    expect(fmt(12340, 'kwd')).toBe('KWD 12.340');
  });
  test('thousands separators and symbol placement follow the owner’s locale', () => {
    expect(fmt(123456700, 'usd')).toBe('$1,234,567.00');
    expect(fmt(1234567, 'jpy', 'ja-JP')).toBe('￥1,234,567');
    expect(fmt(12345678, 'eur', 'fr-FR')).toBe('123 456,78 €');
    expect(fmt(1234567, 'kwd', 'en-GB')).toBe('KWD 1,234.567');
  });
  test('the formatter takes the exponent from the generated table, not Intl’s own', () => {
    // Intl alone would show ISK with 0 digits and round 10.50 to 11; the table says two decimals.
    expect(fmt(1050, 'isk')).toBe('ISK 10.50');
    for (const [cur, exp] of Object.entries(MINOR_UNIT_EXPONENTS)) {
      const digits = fmt(10 ** exp * 1234 + (exp > 0 ? 1 : 0), cur).replace(/[^\d.]/g, '').split('.')[1] ?? '';
      expect(digits.length, cur).toBe(exp);
    }
  });
});
