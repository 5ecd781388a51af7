/**
 * Picks the backend: Tauri inside the app window, the in-memory one everywhere else (the Vite
 * dev server, the browser tests). `?backend=memory` forces memory; `&state=sample` opens the
 * sample store at start. The memory backend is exposed as `window.__fluxstoreMemory` so tests
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
  const memory = new MemoryBackend({ sample: params.get('state') === 'sample' });
  win.__fluxstoreMemory = memory;
  return memory;
}

export type { Backend, BackendError, ErrorCode } from './api';
export { errorAdvice, toBackendError } from './errors';
