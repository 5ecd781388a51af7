// The window's copy of each mode's live feed: an answer to `hub_feed` asked for before a
// `hub_feed_changed` event must not undo that newer event (Tauri delivers command answers and
// events on separate channels, so they may arrive in either order).
import { describe, expect, test } from 'vitest';
import { AppState } from '../../src/lib/app.svelte';
import type { Backend } from '../../src/lib/backend/api';
import type { HubFeedState, HubFeedStatus, Mode } from '../../src/lib/backend/types';
import { fresh } from './memory-helpers';

function status(mode: Mode, state: HubFeedState, doorbells = 0): HubFeedStatus {
  return {
    mode,
    state,
    hub: 'http://127.0.0.1:8791/',
    hub_source: 'connect_service',
    detail: state,
    last_doorbell_at: null,
    last_delay_secs: null,
    doorbells,
    refused: 0,
  };
}

/** The memory backend, except that `hub_feed` answers only when the test says, with `answer`. */
function slowHubFeed(answer: HubFeedStatus[]) {
  const inner = fresh();
  let changed: ((s: HubFeedStatus) => void) | null = null;
  let release: (() => void) | null = null;
  let hold = false;
  const call = (command: string, ...args: unknown[]): Promise<unknown> => {
    if (command === 'hub_feed' && hold) return new Promise((resolve) => (release = () => resolve(answer)));
    return (inner.call as unknown as (c: string, ...a: unknown[]) => Promise<unknown>)(command, ...args);
  };
  const on = (event: string, handler: (payload: unknown) => void) => {
    if (event === 'hub_feed_changed') changed = handler as (s: HubFeedStatus) => void;
    return (inner.on as unknown as (e: string, h: (p: unknown) => void) => Promise<() => void>)(event, handler);
  };
  const backend = { kind: 'memory', call, on } as unknown as Backend;
  return {
    backend,
    holdNext: () => (hold = true),
    emit: (s: HubFeedStatus) => changed?.(s),
    answer: () => release?.(),
  };
}

describe('live feed state in the window', () => {
  test('an answer asked for before an event keeps the event for that mode and takes the rest', async () => {
    const b = slowHubFeed([status('test', 'polling'), status('live', 'off')]);
    const app = new AppState(b.backend);
    await app.start();
    b.holdNext();
    const asked = app.refreshHubFeed();
    b.emit(status('test', 'live', 1));
    b.answer();
    await asked;
    expect(app.hubFeed.find((f) => f.mode === 'test')).toMatchObject({ state: 'live', doorbells: 1 });
    expect(app.hubFeed.find((f) => f.mode === 'live')).toMatchObject({ state: 'off' });
  });

  test('an answer asked for after the event is the state', async () => {
    const b = slowHubFeed([status('test', 'polling'), status('live', 'off')]);
    const app = new AppState(b.backend);
    await app.start();
    b.emit(status('test', 'live', 1));
    b.holdNext();
    const asked = app.refreshHubFeed();
    b.answer();
    await asked;
    expect(app.hubFeed.find((f) => f.mode === 'test')).toMatchObject({ state: 'polling' });
  });
});
