/**
 * Sentences about how events reach FluxStore, per mode and per road, so that what the UI
 * promises is what the code does: a webhook delivery arrives in seconds, and so does an event
 * the FluxStore hub announces while a mode's live feed is open (Stripe Connect, or keys with
 * live updates through the hub on); otherwise
 * (the hub unreachable, keys whose webhook has not reached the relay) FluxStore reads Stripe's
 * events API every 2 minutes (the feed's poll).
 *
 * Invariant: every sentence here is chosen from the connection and the mirror's facts; unit
 * tests (`tests/unit/words.test.ts`) pin each per mode.
 */
import type { ChecklistFacts, ConnectionStatus, HubFeedStatus, Mode } from './backend/types';

/** How often the events sync reads Stripe's events API (the gateway's `feed::POLL`). */
export const POLL_WORDS = 'every 2 minutes';

/** Whether webhook deliveries of `mode` are what brings its orders (keys, and one has arrived). */
export function webhooksWork(c: ConnectionStatus | null, facts: ChecklistFacts | null, mode: Mode): boolean {
  return c?.[mode].via === 'keys' && (facts?.[mode].last_webhook_at ?? null) !== null;
}

/** Whether `mode`'s live feed through the FluxStore hub is open now. */
export function hubLive(feed: readonly HubFeedStatus[] | null | undefined, mode: Mode): boolean {
  return (feed ?? []).some((f) => f.mode === mode && f.state === 'live');
}

/** When a new order of `mode` shows up, by the road that works. */
export function arrivalPromise(
  c: ConnectionStatus | null,
  facts: ChecklistFacts | null,
  mode: Mode,
  feed?: readonly HubFeedStatus[] | null,
): string {
  if (webhooksWork(c, facts, mode)) return 'A new order shows up here within seconds of payment.';
  if (hubLive(feed, mode)) return 'A new order shows up here within seconds of payment: the FluxStore hub announces it.';
  return `A new order shows up here within about 2 minutes of payment: FluxStore reads Stripe’s events ${POLL_WORDS}.`;
}

/** What a still-pending order of `mode` may mean, by how that mode is connected. */
export function pendingAdvice(
  c: ConnectionStatus | null,
  facts: ChecklistFacts | null,
  mode: Mode,
  feed?: readonly HubFeedStatus[] | null,
): string {
  const via = c?.[mode].via ?? null;
  if (via !== null && hubLive(feed, mode))
    return 'Still pending. The FluxStore hub announces each payment as Stripe reports it, so if the customer paid, Stripe has not reported it yet. If it stays pending, open the payment in the Stripe Dashboard.';
  if (via === 'connect')
    return `Still pending. With Stripe Connect, FluxStore reads Stripe’s events ${POLL_WORDS}, so a payment made just now may not be here yet. If it stays pending, open the payment in the Stripe Dashboard.`;
  if (via === 'keys' && webhooksWork(c, facts, mode))
    return 'Still pending. If the customer paid, the webhook is most likely not reaching FluxStore:';
  if (via === 'keys')
    return `Still pending. No webhook delivery has reached FluxStore in ${mode} mode yet, so a payment shows up only when FluxStore reads Stripe’s events (${POLL_WORDS}). Check`;
  return `Still pending. ${mode === 'test' ? 'Test' : 'Live'} mode is not connected, so FluxStore cannot hear about this payment. Connect it in`;
}

/**
 * The relay line of webhook health for `mode`; `bad` marks a stopped relay that matters.
 * `hubOn`: live updates through the FluxStore hub are on for the mode's keys.
 */
export function relayNote(c: ConnectionStatus | null, mode: Mode, hubOn = false): { bad: boolean; text: string } {
  if (c?.relay.listening) return { bad: false, text: `Relay receiving at ${c.relay.local_url}.` };
  const via = c?.[mode].via ?? null;
  if (via === 'keys' && hubOn)
    return { bad: false, text: 'The relay is off; live updates through the FluxStore hub do not need it.' };
  if (via === 'connect' || (via === null && c?.method !== 'keys'))
    return { bad: false, text: 'The relay is off; Stripe Connect does not need it.' };
  if (via === null) return { bad: false, text: `The relay starts once ${mode} keys and a signing secret are saved.` };
  return {
    bad: true,
    text: `It starts once a signing secret is saved; until then Stripe’s webhook deliveries are refused and orders arrive only when FluxStore reads Stripe’s events (${POLL_WORDS}).`,
  };
}
