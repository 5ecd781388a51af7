/**
 * IPC types: the JSON shapes that cross between the Rust shell and the UI.
 *
 * Invariant: every shape that crosses IPC comes from `./generated/`, which ts-rs writes from the
 * Rust types (the mirror's read types and the shell's own; a shell test fails when it is stale).
 * `OrderStatus` and `RejectionCode` are closed unions generated from Rust. This file adds only
 * UI-side helper types that never cross IPC on their own.
 */
export type * from './generated';

import type { ListOrdersArgs } from './generated';

/** The orders filter a view holds: `list_orders`' argument (mode is always required). */
export type OrderQuery = ListOrdersArgs;
