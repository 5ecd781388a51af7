import { describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../../src/lib/backend/api';
import { errorAdvice, isErrorCode, toBackendError } from '../../src/lib/backend/errors';

describe('error-code mapping', () => {
  test('the closed code list is pinned: a new code is a UI change', () => {
    expect([...ERROR_CODES]).toEqual([
      'offline',
      'invalid_key',
      'invalid_input',
      'keyring_unavailable',
      'not_connected',
      'not_found',
      'stripe_error',
      'refused',
      'cancelled',
      'internal',
    ]);
  });
  test('a {code, message} from the shell passes through', () => {
    expect(toBackendError({ code: 'offline', message: 'Stripe cannot be reached.' })).toEqual({
      code: 'offline',
      message: 'Stripe cannot be reached.',
    });
    expect(toBackendError({ code: 'invalid_key', message: 'The publishable key must start with pk_test_ or pk_live_.' }).code).toBe('invalid_key');
  });
  test('an unknown code keeps its words but is branched on as internal', () => {
    expect(toBackendError({ code: 'quota_exceeded', message: 'Too many requests.' })).toEqual({ code: 'internal', message: 'Too many requests.' });
  });
  test('bare strings, Errors and junk never leak internals', () => {
    for (const raw of ['command foo not found', new Error('at Object.<anonymous> (x.js:1:1)'), null, undefined, 42, { code: 'offline', message: '' }]) {
      const e = toBackendError(raw);
      expect(isErrorCode(e.code)).toBe(true);
      expect(e.message).not.toMatch(/x\.js|not found|anonymous/);
      expect(e.message.length).toBeGreaterThan(10);
    }
    expect(toBackendError({ code: 'offline', message: '' }).code).toBe('offline');
  });
  test('every code has advice for the owner', () => {
    for (const code of ERROR_CODES) expect(errorAdvice(code).length).toBeGreaterThan(10);
  });
});
