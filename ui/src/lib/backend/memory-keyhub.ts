/**
 * Live updates through the FluxStore hub for a mode connected with API keys, as the shell's
 * profile does them (crates/gateway/src/profile/keyhub.rs): the words and the state; the
 * memory shell does the registration, the endpoint and the audit rows.
 *
 * Invariant: the same sentences as the shell's (the contract transcript
 * `key-hub-live-updates` compares them).
 */
import type { KeyHubChange, KeyHubStatus, Mode } from './types';

/** A key-mode store registered at the hub, as the profile's `hub.store` setting holds it. */
export interface KeyHubRecord {
  hub: string;
  storeId: string;
  endpointId: string;
}

const title = (mode: Mode) => (mode === 'test' ? 'Test' : 'Live');

export function keyHubStatus(mode: Mode, rec: KeyHubRecord | null): KeyHubStatus {
  return { mode, on: rec !== null, hub: rec?.hub ?? null, store_id: rec?.storeId ?? null, endpoint_id: rec?.endpointId ?? null };
}

export function turnedOn(mode: Mode, rec: KeyHubRecord): KeyHubChange {
  return {
    status: keyHubStatus(mode, rec),
    endpoint_deleted: false,
    message: `Live updates through the FluxStore hub are on for ${mode} mode: Stripe sends your events to the hub (webhook endpoint ${rec.endpointId}), and FluxStore fetches each one from Stripe as the hub announces it.`,
  };
}

export function alreadyOff(mode: Mode): KeyHubChange {
  return {
    status: keyHubStatus(mode, null),
    endpoint_deleted: false,
    message: `Live updates through the FluxStore hub were already off for ${mode} mode.`,
  };
}

export function turnedOff(mode: Mode, endpointId: string): KeyHubChange {
  return {
    status: keyHubStatus(mode, null),
    endpoint_deleted: true,
    message: `Live updates through the FluxStore hub are off for ${mode} mode, and the webhook endpoint ${endpointId} that sent your events to the hub is deleted in Stripe.`,
  };
}

export const connectFollowsAlready = (mode: Mode) =>
  `${title(mode)} mode is connected through Stripe Connect, which follows the FluxStore hub already; live updates through the hub are for a mode connected with API keys.`;

export const hubUnreachable = (hub: string) =>
  `The FluxStore hub at ${new URL(hub).hostname} cannot be reached. Live updates stay off; FluxStore reads Stripe's events every 2 minutes.`;

/** The follower's words for a mode with neither a Connect connection nor live updates on. */
export const noLiveFeed = (mode: Mode) =>
  `${title(mode)} mode is not connected through Stripe Connect, and live updates through the FluxStore hub are not turned on for its API keys, so there is no live feed for it.`;

/** The follower's words while a key-mode store's feed is open. */
export const liveThrough = (hub: string) =>
  `Live through the FluxStore hub (${new URL(hub).hostname}): a new order shows up within seconds of payment.`;

/** A random token part, like the hub's. */
export function randomPart(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
