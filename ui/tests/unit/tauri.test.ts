// @vitest-environment jsdom
// The Tauri adapter against Tauri's own IPC mock: the command name, the single `args`
// argument, and errors crossing as {code, message}.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, test } from 'vitest';
import { TauriBackend } from '../../src/lib/backend/tauri';

afterEach(() => clearMocks());

test('commands go out by name with one `args` object in snake_case', async () => {
  const calls: [string, unknown][] = [];
  mockIPC((cmd, payload) => {
    calls.push([cmd, payload]);
    if (cmd === 'list_disputes') return [];
    if (cmd === 'connection_status') return { method: null };
    return null;
  });
  const b = new TauriBackend();
  expect(await b.call('list_disputes', { mode: 'live' })).toEqual([]);
  await b.call('connection_status');
  await b.call('refund_order', { mode: 'test', session_id: 'cs_test_1', amount: 100, reason: 'duplicate' });
  expect(calls[0]).toEqual(['list_disputes', { args: { mode: 'live' } }]);
  expect(calls[1][0]).toBe('connection_status');
  expect(calls[1][1] ?? {}).toEqual({});
  expect(calls[2]).toEqual(['refund_order', { args: { mode: 'test', session_id: 'cs_test_1', amount: 100, reason: 'duplicate' } }]);
});

test('a rejected command becomes a BackendError', async () => {
  mockIPC((cmd) => {
    if (cmd === 'save_keys') throw { code: 'keyring_unavailable', message: 'The system keyring is locked.' };
    throw 'unknown command';
  });
  const b = new TauriBackend();
  await expect(b.call('save_keys', { publishable_key: 'pk_test_x', secret_key: 'sk_test_x' })).rejects.toEqual({
    code: 'keyring_unavailable',
    message: 'The system keyring is locked.',
  });
  await expect(b.call('checklist_facts')).rejects.toMatchObject({ code: 'internal' });
});
