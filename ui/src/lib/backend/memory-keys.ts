/**
 * Key validation for the in-memory backend, following the gateway's rules so the UI shows the
 * same kinds of messages it will get from the real shell: prefixes, test vs live, both keys of
 * the same mode, a key pasted into the wrong field, whitespace trimmed.
 */
import type { BackendError } from './api';
import type { Mode } from './types';

function invalid(message: string): BackendError {
  return { code: 'invalid_key', message };
}

function modeOf(key: string, prefix: string): Mode | null {
  if (key.startsWith(`${prefix}_test_`)) return 'test';
  if (key.startsWith(`${prefix}_live_`)) return 'live';
  return null;
}

export interface ValidKeys {
  mode: Mode;
  publishable: string;
  secretKind: 'secret_key' | 'restricted_key';
}

export function validateKeys(publishableRaw: string, secretRaw: string): ValidKeys | BackendError {
  const pk = publishableRaw.trim();
  const sk = secretRaw.trim();
  if (pk === '') return invalid('Paste the publishable key (it starts with pk_test_ or pk_live_).');
  if (sk === '') return invalid('Paste the secret key (it starts with sk_test_, sk_live_, rk_test_ or rk_live_).');
  if (pk.startsWith('sk_') || pk.startsWith('rk_'))
    return invalid('That is a secret key in the publishable key field. Swap the two fields.');
  if (sk.startsWith('pk_'))
    return invalid('That is a publishable key in the secret key field. Paste the key that starts with sk_ or rk_.');
  if (sk.startsWith('whsec_'))
    return invalid('That is a webhook signing secret, not a secret key. Paste it in the webhook step.');
  const pkMode = modeOf(pk, 'pk');
  if (!pkMode) return invalid('The publishable key must start with pk_test_ or pk_live_.');
  const skMode = modeOf(sk, 'sk') ?? modeOf(sk, 'rk');
  if (!skMode) return invalid('The secret key must start with sk_test_, sk_live_, rk_test_ or rk_live_.');
  if (pkMode !== skMode)
    return invalid(
      `The publishable key is a ${pkMode} key but the secret key is a ${skMode} key. Use two keys from the same mode.`,
    );
  if (sk.length < 20) return invalid('The secret key looks cut off. Copy it again in full.');
  return { mode: pkMode, publishable: pk, secretKind: sk.startsWith('rk_') ? 'restricted_key' : 'secret_key' };
}

export function validateWebhookSecret(raw: string): BackendError | null {
  const s = raw.trim();
  if (s === '') return invalid('Paste the signing secret (it starts with whsec_).');
  if (s.startsWith('sk_') || s.startsWith('rk_'))
    return invalid('That is an API secret key, not a webhook signing secret. Paste the whsec_ value from the webhook page.');
  if (!s.startsWith('whsec_')) return invalid('The signing secret must start with whsec_.');
  if (s.length < 16) return invalid('The signing secret looks cut off. Copy it again in full.');
  return null;
}

export function isBackendError(v: unknown): v is BackendError {
  return !!v && typeof v === 'object' && 'code' in v && 'message' in v;
}
