/**
 * The one IPC surface between the UI and the shell: every command with its typed argument and
 * result, the closed error-code union, and the event subscriptions.
 *
 * Invariant: the command table (`Commands`), the event table (`BackendEvents`) and every shape
 * come from the shell's generated bindings, so the UI and the shell cannot disagree on a name,
 * an argument or a result. Views talk to a `Backend` only; `tauri.ts` and `memory.ts` are the two
 * implementations and nothing outside `lib/backend/` imports `@tauri-apps/*`.
 */
import type { BackendEvents, Commands, ErrorCode, IpcError } from './types';

export type { BackendEvents, Commands, ErrorCode } from './types';

/**
 * The codes the UI branches on, as a runtime list (the type comes from the shell's `ErrorCode`).
 * Closed on purpose: a new code is a UI change.
 * - offline: Stripe or the Connect service cannot be reached; nothing changed.
 * - invalid_key: a pasted key or secret failed validation (message says which and why).
 * - invalid_input: input the app refused before sending anything (an address, an amount out of
 *   range); the owner's to fix, not Stripe's answer.
 * - keyring_unavailable: the OS keyring is locked, missing or unreachable; nothing stored.
 * - not_connected: the command needs a connection in that mode.
 * - not_found: the order/dispute is not in this mode's mirror.
 * - stripe_error: Stripe answered with an error (message is Stripe's, in owner words).
 * - refused: the app will not do it (e.g. refund above the remaining amount, not a FluxStore order).
 * - cancelled: the owner or a timeout ended a long operation (e.g. a Connect sign-in).
 * - internal: anything else; details are in the log.
 */
export const ERROR_CODES = [
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
] as const satisfies readonly ErrorCode[];

// Type-level proof that the runtime list names every generated code: compilation fails when the
// shell adds a code the list lacks (the `satisfies` above catches the opposite direction).
type MissingCodes = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
const everyCodeListed: [MissingCodes] extends [never] ? true : MissingCodes = true;
void everyCodeListed;

/** How every command fails across IPC: `{code, message}` (the shell's `IpcError`). */
export type BackendError = IpcError;

export type CommandName = keyof Commands;
export type ArgsOf<C extends CommandName> = Commands[C][0];
export type ResultOf<C extends CommandName> = Commands[C][1];

export type EventName = keyof BackendEvents;
export type Unsubscribe = () => void;

export interface Backend {
  readonly kind: 'tauri' | 'memory';
  /** Run one command. Rejects with a `BackendError` only. */
  call<C extends CommandName>(
    command: C,
    ...args: ArgsOf<C> extends void ? [] : [ArgsOf<C>]
  ): Promise<ResultOf<C>>;
  /** Subscribe to a shell event. */
  on<E extends EventName>(event: E, handler: (payload: BackendEvents[E]) => void): Promise<Unsubscribe>;
}
