/**
 * IPC types: the JSON shapes that cross between the Rust shell and the UI.
 *
 * Invariant: every shape that crosses IPC comes from `./generated/`, which ts-rs writes from the
 * shell's Rust types (a shell test fails when it is stale). This file adds only UI-side helper
 * types that never cross IPC on their own.
 */
export type * from './generated';

import type { ListOrdersArgs } from './generated';

/**
 * Order statuses the display helpers know. `Order.status` is a plain string across IPC because
 * rows written by a newer build must still read; this open union keeps autocompletion for the
 * known ones without refusing the rest.
 */
export type KnownOrderStatus =
  | 'pending'
  | 'paid'
  | 'failed'
  | 'refunded'
  | 'partially_refunded'
  | 'disputed'
  | 'dispute_won'
  | 'dispute_lost';
export type OrderStatus = KnownOrderStatus | (string & {});

/** The orders filter a view holds: `list_orders`' argument (mode is always required). */
export type OrderQuery = ListOrdersArgs;
