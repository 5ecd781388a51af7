/**
 * Picks the backend: Tauri inside the app window, the in-memory one everywhere else (the Vite
 * dev server, the browser tests). `?backend=memory` forces memory; `&state=sample` opens the
 * sample store at start; `&state=upgrading` starts while the mirror's upgrade runs. The memory backend is exposed as `window.__fluxstoreMemory` so tests
 * can play Stripe's and the network's part (payments, rejections, offline).
 */
import type { Backend } from './api';
import { MemoryBackend } from './memory';
import { TauriBackend } from './tauri';

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
    __fluxstoreMemory?: MemoryBackend;
  }
}

export function selectBackend(win: Window = window): Backend {
  const params = new URLSearchParams(win.location.search);
  if (win.__TAURI_INTERNALS__ && params.get('backend') !== 'memory') return new TauriBackend();
  const state = params.get('state');
  const memory = new MemoryBackend({
    sample: state === 'sample',
    // A first start after an upgrade of a large store, until the test calls finishUpgrade().
    upgrading: state === 'upgrading' ? { from_version: 7, to_version: 8, events: 48_210 } : undefined,
  });
  win.__fluxstoreMemory = memory;
  return memory;
}

export type { Backend, BackendError, ErrorCode } from './api';
export { errorAdvice, toBackendError } from './errors';
