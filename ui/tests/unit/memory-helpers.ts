// Shared by the in-memory backend's suites: a fixed clock, the keys every suite pastes, and
// small probes for rejections and emitted events.
import type { BackendError } from '../../src/lib/backend/api';
import { MemoryBackend } from '../../src/lib/backend/memory';
import type { BackendEvents } from '../../src/lib/backend/types';

export const NOW = 1_800_000_000;
export const PK = 'pk_test_51AbCdEfGhIjKlMnOpQrStUv';
export const SK = 'sk_test_51AbCdEfGhIjKlMnOpQrStUv';

export const fresh = () => new MemoryBackend({ now: () => NOW });
export const sample = () => new MemoryBackend({ now: () => NOW, sample: true });

export async function rejection(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    return e as BackendError;
  }
  throw new Error('expected a rejection');
}

/** Every payload of `e` emitted from now on. */
export function record<E extends keyof BackendEvents>(b: MemoryBackend, e: E): BackendEvents[E][] {
  const seen: BackendEvents[E][] = [];
  void b.on(e, (p) => seen.push(p));
  return seen;
}

/** Let timers queued by the backend run (endings that follow a command). */
export const settle = () => new Promise((r) => setTimeout(r, 5));
