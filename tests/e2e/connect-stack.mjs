// What the Connect sign-in tests run around the app: the Connect fake (Stripe's OAuth side,
// src-tauri/examples/connect_fake.rs), the real FluxStore Connect service in front of it, and a
// stand-in for the owner's browser — a URL handler registered for http/https that only
// records what the app asked the system to open, plus an HTTP client that follows redirects.
//
// Invariants: every wait has a bound; every process started here is stopped by `stop`; the
// platform keys stay in the fake's files (the service reads them there), never in argv or env.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { root, waitForPort } from './harness.mjs';

const fakeBinary = process.env.FLUXSTORE_E2E_CONNECT_FAKE ?? path.join(root, 'target/debug/examples/connect-fake');
const serviceBinary = process.env.FLUXSTORE_E2E_CONNECT_SERVICE_BIN ?? path.join(root, 'target/debug/fluxstore-connect');

/** Lines of a child's stdout, awaited one at a time with a bound. */
export function lineReader(child, name) {
  const queue = [];
  const waiters = [];
  let closed = false;
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => (waiters.length ? waiters.shift().resolve(line) : queue.push(line)));
  rl.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w.reject(new Error(`${name} closed its output`));
  });
  return (ms) => {
    if (queue.length) return Promise.resolve(queue.shift());
    if (closed) return Promise.reject(new Error(`${name} closed its output`));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      waiters.push(w);
      setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) {
          waiters.splice(i, 1);
          reject(new Error(`${name} printed no line within ${ms} ms`));
        }
      }, ms);
    });
  };
}

/** Stop `child`: `gently` first (close stdin, or SIGTERM), SIGKILL if it lingers. */
export async function stopChild(child, gently) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  gently();
  const late = await Promise.race([exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 5000))]);
  if (late) {
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The Connect fake and the Connect service in front of it, both on 127.0.0.1. */
export async function startConnectStack() {
  const fake = spawn(fakeBinary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fakeExit = new Promise((_, reject) => fake.once('exit', (code) => reject(new Error(`the Connect fake exited (${code})`))));
  fakeExit.catch(() => {});
  const line = lineReader(fake, 'the Connect fake');
  let service = null;
  const stop = async () => {
    await stopChild(service, () => service.kill('SIGTERM'));
    await stopChild(fake, () => fake.stdin.end());
  };
  try {
    const fakeBase = await line(30000);
    const clientId = await line(5000);
    const accountId = await line(5000);
    const testKeyFile = await line(5000);
    const liveKeyFile = await line(5000);

    // fluxstore-connect prints no address it bound, so it gets a port known to be free just
    // before; a port taken meanwhile makes it exit, and another is tried.
    let serviceUrl = null;
    for (let attempt = 0; attempt < 3 && !serviceUrl; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      service = spawn(serviceBinary, [
        '--listen', `127.0.0.1:${port}`,
        '--public-url', url,
        '--client-id', clientId,
        '--platform-key-file', testKeyFile,
        '--platform-key-file', liveKeyFile,
        '--stripe-connect-base', fakeBase,
        '--stripe-api-base', fakeBase,
      ], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
      const exited = new Promise((r) => service.once('exit', () => r(false)));
      const up = await Promise.race([waitForPort(port, 15000).then(() => true), exited]);
      if (up) serviceUrl = url;
      else await stopChild(service, () => service.kill('SIGTERM'));
    }
    if (!serviceUrl) throw new Error('the Connect service did not start');

    /** What the owner does at Stripe's authorize page from now on: 'approve' or 'deny'. */
    const decide = async (decision) => {
      fake.stdin.write(`${decision}\n`);
      const ack = await Promise.race([line(5000), fakeExit]);
      if (ack !== `decision ${decision}`) throw new Error(`the Connect fake answered ${JSON.stringify(ack)}`);
    };
    return { fakeBase, serviceUrl, clientId, accountId, decide, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * A URL handler for http/https that records each URL it is asked to open (one a line) instead
 * of starting a browser. `env` points the app's XDG configuration at it, so the system opener
 * (xdg-open) picks it over any installed browser.
 */
export function urlRecorder() {
  const dir = mkdtempSync(path.join(tmpdir(), 'fluxstore-e2e-opener-'));
  const log = path.join(dir, 'opened.txt');
  const script = path.join(dir, 'record-open');
  mkdirSync(path.join(dir, 'config'));
  mkdirSync(path.join(dir, 'data/applications'), { recursive: true });
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\n`);
  chmodSync(script, 0o755);
  writeFileSync(
    path.join(dir, 'data/applications/fluxstore-e2e-opener.desktop'),
    ['[Desktop Entry]', 'Type=Application', 'Name=FluxStore e2e URL recorder', `Exec=${script} %u`,
      'MimeType=x-scheme-handler/http;x-scheme-handler/https;', 'NoDisplay=true', ''].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'config/mimeapps.list'),
    ['[Default Applications]', 'x-scheme-handler/http=fluxstore-e2e-opener.desktop',
      'x-scheme-handler/https=fluxstore-e2e-opener.desktop', ''].join('\n'),
  );
  const opened = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  return {
    env: { XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data') },
    opened,
    /** The first URL opened, waiting up to `ms` for one. */
    async first(ms) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const urls = opened();
        if (urls.length) return urls[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the app opened no URL within ${ms} ms`);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The owner's browser following `url` through every redirect, as a real one would: it keeps
 * the cookies each host sets (the Connect service binds a sign-in to the browser that started
 * it), which fetch alone does not do across redirects.
 */
export async function follow(url) {
  const jar = new Map(); // host -> Map(name -> value)
  const signal = AbortSignal.timeout(20000);
  let current = new URL(url);
  for (let hops = 0; hops < 20; hops++) {
    const cookies = jar.get(current.host);
    const headers = cookies ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
    const res = await fetch(current, { redirect: 'manual', headers, signal });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const hostJar = jar.get(current.host) ?? new Map();
      if (value === '' || /max-age=0\b/i.test(line)) hostJar.delete(name);
      else hostJar.set(name, value);
      jar.set(current.host, hostJar);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      current = new URL(location, current);
      continue;
    }
    return { status: res.status, url: current.toString(), body: await res.text() };
  }
  throw new Error(`too many redirects from ${url}`);
}
