// Shared pieces of the real-app tests: tauri-driver (which runs WebKitWebDriver, which runs the
// built app), WebdriverIO sessions, Stripe-signed deliveries to the app's relay, screenshots.
//
// Invariants: every wait has a bound; every process started here is stopped in `after`.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const shots = path.join(here, 'screenshots');

/** The app binary under test (built with the custom-protocol feature so it embeds ui/dist). */
export const appBinary = process.env.FLUXSTORE_APP ?? path.join(root, 'target/debug/fluxstore-desktop');
const driverBinary = process.env.TAURI_DRIVER ?? 'tauri-driver';

export function freshDataDir() {
  return mkdtempSync(path.join(tmpdir(), 'fluxstore-e2e-'));
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; throws after `ms`. */
export async function waitForPort(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listened on ${port} within ${ms} ms`);
}

/** Start tauri-driver with `env` for the app (it inherits the driver's environment). */
export async function startDriver(env = {}) {
  const port = 4444 + Math.floor(Math.random() * 500);
  const child = spawn(driverBinary, ['--port', String(port), '--native-port', String(port + 600)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(port, 15000);
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const late = await Promise.race([exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 3000))]);
      if (late) {
        // It did not stop on SIGTERM: leave nothing behind.
        child.kill('SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
    },
  };
}

/** A WebDriver session on a freshly launched app with `--data-dir dataDir`. */
export async function openApp(driver, dataDir, extraArgs = []) {
  const browser = await remote({
    hostname: '127.0.0.1',
    port: driver.port,
    logLevel: 'error',
    connectionRetryTimeout: 60000,
    capabilities: {
      // No browserName: WebKitWebDriver refuses "wry".
      'tauri:options': { application: appBinary, args: ['--data-dir', dataDir, ...extraArgs] },
    },
  });
  await browser.setTimeout({ implicit: 0 });
  lookAgainWhenStale(browser);
  await browser.$('main h1').waitForExist({ timeout: 20000 });
  return browser;
}

/**
 * WebKitWebDriver can answer an element lookup with "stale element reference" when the element
 * it found is removed before the lookup returns (a view re-rendering as its data arrives). The
 * lookup itself is then simply repeated, a few times, as a person would look again; every other
 * error, and a lookup still stale after the retries, fails as before.
 */
function lookAgainWhenStale(browser) {
  const stale = (e) => e?.name === 'stale element reference' || /stale element/i.test(e?.message ?? '');
  for (const command of ['findElement', 'findElements', 'findElementFromElement', 'findElementsFromElement']) {
    browser.overwriteCommand(command, async function (original, ...args) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await original(...args);
        } catch (e) {
          if (attempt >= 5 || !stale(e)) throw e;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
  }
}

export async function screenshot(browser, name) {
  mkdirSync(shots, { recursive: true });
  await browser.saveScreenshot(path.join(shots, `${name}.png`));
}

/**
 * What `selector` matches right now, read inside the page: its text and data attributes, or
 * null. No element handle is kept, so a view that re-renders between two WebDriver calls cannot
 * turn the read into a "stale element" error.
 */
export function query(browser, selector) {
  return browser.execute((q) => {
    const found = document.querySelector(q);
    return found ? { text: found.innerText ?? found.textContent ?? '', data: { ...found.dataset } } : null;
  }, selector);
}

/** Waits until `selector` matches something and returns what `query` reads there. */
export async function waitForQuery(browser, selector, timeout, timeoutMsg) {
  let found = null;
  await browser.waitUntil(async () => (found = await query(browser, selector)) !== null, {
    timeout,
    timeoutMsg: timeoutMsg ?? `nothing matched ${selector} within ${timeout} ms`,
  });
  return found;
}

/** Waits until `selector` matches nothing (asked inside the page, as `query` does). */
export async function waitForGone(browser, selector, timeout, timeoutMsg) {
  await browser.waitUntil(async () => (await query(browser, selector)) === null, {
    timeout,
    timeoutMsg: timeoutMsg ?? `${selector} was still shown after ${timeout} ms`,
  });
}

/** Go to a view by its hash route and wait for its heading. */
export async function go(browser, hash, heading) {
  await browser.execute((h) => { window.location.hash = h; }, hash);
  await browser.waitUntil(async () => ((await query(browser, 'main h1'))?.text ?? '').includes(heading), {
    timeout: 10000,
    timeoutMsg: `the ${heading} view did not open`,
  });
}

/** Stripe's signature scheme, computed here independently of the relay's code. */
export function stripeSignature(body, secret, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export async function deliver(url, event, secret) {
  const body = JSON.stringify(event);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(body, secret) },
    body,
    signal: AbortSignal.timeout(10000),
  });
  return { status: res.status, body: await res.text() };
}

/** A realistic `checkout.session.completed` (API 2026-07-29.dahlia shape) for a paid order. */
export function checkoutCompleted({ session, paymentIntent, amount, currency, email }) {
  const created = Math.floor(Date.now() / 1000);
  return {
    id: `evt_e2e${session.slice(-16)}`,
    object: 'event',
    api_version: '2026-07-29.dahlia',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: session,
        object: 'checkout.session',
        amount_subtotal: amount,
        amount_total: amount,
        client_reference_id: 'fluxstore-order-e2e',
        created: created - 30,
        currency,
        customer: null,
        customer_details: { email, name: 'E2E Buyer', address: null, phone: null, tax_exempt: 'none' },
        livemode: false,
        metadata: { fluxstore_order: 'e2e' },
        mode: 'payment',
        payment_intent: paymentIntent,
        payment_status: 'paid',
        status: 'complete',
        subscription: null,
        ui_mode: 'hosted',
        url: null,
      },
    },
  };
}
