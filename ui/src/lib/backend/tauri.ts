/**
 * The Tauri implementation of `Backend`: `invoke` for commands, `listen` for events.
 *
 * Invariant: every command takes at most ONE argument, sent under the key `args` (the Rust
 * command's parameter is named `args` and is a serde struct with snake_case fields), so Tauri's
 * camelCase renaming of parameter names never touches field names.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { ArgsOf, Backend, CommandName, EventName, ResultOf, Unsubscribe } from './api';
import { toBackendError } from './errors';
import type { BackendEvents } from './types';

export class TauriBackend implements Backend {
  readonly kind = 'tauri' as const;

  async call<C extends CommandName>(
    command: C,
    ...args: ArgsOf<C> extends void ? [] : [ArgsOf<C>]
  ): Promise<ResultOf<C>> {
    try {
      const payload = args.length === 0 ? undefined : { args: args[0] };
      return await invoke<ResultOf<C>>(command, payload);
    } catch (e) {
      throw toBackendError(e);
    }
  }

  async on<E extends EventName>(
    event: E,
    handler: (payload: BackendEvents[E]) => void,
  ): Promise<Unsubscribe> {
    return listen<BackendEvents[E]>(event, (e) => handler(e.payload));
  }
}
