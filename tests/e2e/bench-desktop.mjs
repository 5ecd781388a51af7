// Desktop benchmark (not a test: it prints figures and never asserts a time): cold start of the
// built app to its first painted Orders rows, and idle memory (PSS, RSS) of the app and its
// WebKit child processes. Run by scripts/bench-desktop, which builds the release app, places a
// large mirror in a data folder, and provides Xvfb, a private D-Bus session and a keyring.
//
// How a run is timed, and what the method itself costs:
// - spawn: the app is launched through a small wrapper (FLUXSTORE_BENCH_WRAPPER) that appends
//   its PID and the wall clock (bash's EPOCHREALTIME, no fork) to a file, then `exec`s the app.
//   The PID stays the app's; the clock is read a few ms after WebKitWebDriver's spawn.
// - paint: as soon as the WebDriver session exists, one script sets the route to #/orders and
//   waits (MutationObserver) for the first row of the orders table, then for two animation
//   frames, so the row has been painted. Times are read with the page's own Date.now() (the same
//   wall clock), so WebDriver's round trips are not part of the figure. The method costs: the
//   automation session that WebKitWebDriver opens during start-up, tauri-driver and
//   WebKitWebDriver sharing the 2 cores, up to two frames (≈ 33 ms) of the double rAF, and the
//   Onboarding view when the app had already routed to it before the script ran (`routed`).
// - memory: after FLUXSTORE_BENCH_IDLE_MS idle on the Orders view, /proc/PID/smaps_rollup of the
//   app and every descendant (WebKitWebProcess, WebKitNetworkProcess, …) is summed; the driver
//   processes are reported apart and excluded.
//
// Invariants: every wait has a bound; every process started here is stopped before the next run.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { remote } from 'webdriverio';
import { startDriver } from './harness.mjs';

const wrapper = need('FLUXSTORE_BENCH_WRAPPER');
const marks = need('FLUXSTORE_BENCH_MARKS');
const dataDir = need('FLUXSTORE_BENCH_DATA_DIR');
const runs = Number(process.env.FLUXSTORE_BENCH_RUNS ?? 5);
const idleMs = Number(process.env.FLUXSTORE_BENCH_IDLE_MS ?? 10000);
const dropCaches = process.env.FLUXSTORE_BENCH_DROP === '1';
const ROW = 'table[data-testid="orders"] tr[data-session]';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/bench-desktop)`);
  return v;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The last "pid spawn_ms" line the wrapper wrote. */
function lastSpawn() {
  const lines = readFileSync(marks, 'utf8').trim().split('\n');
  const [pid, secs] = lines[lines.length - 1].split(' ');
  return { pid: Number(pid), spawnMs: Number(secs) * 1000 };
}

function procs() {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // comm may hold spaces or parentheses: the fields after the last ')' are fixed.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      out.set(Number(d), { pid: Number(d), ppid, comm });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** CPU time (user + system, ms) of one process; clock ticks are 10 ms on Linux (USER_HZ 100). */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

function tree(root) {
  const all = procs();
  const found = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    const p = all.get(pid);
    if (!p) continue;
    found.push(p);
    for (const c of all.values()) if (c.ppid === pid) queue.push(c.pid);
  }
  return found;
}

/** Pss and Rss in kB from smaps_rollup. */
function rollup(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pss: kb('Pss'), rss: kb('Rss') };
  } catch {
    return { pss: 0, rss: 0 };
  }
}

function memory(rootPid) {
  const list = tree(rootPid).map((p) => ({ ...p, ...rollup(p.pid) }));
  const sum = (k) => list.reduce((a, p) => a + p[k], 0);
  return { list, pss: sum('pss'), rss: sum('rss') };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid, ms) {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await sleep(100);
  return !alive(pid);
}

/** In the page: route to the orders, wait for a painted row; Date.now() figures. */
function awaitOrdersPaint(rowSelector) {
  return new Promise((resolve) => {
    const injected = Date.now();
    const routed = !!document.querySelector('main h1');
    if (!location.hash.startsWith('#/orders')) location.hash = '#/orders';
    const finish = (already) => {
      const dom = Date.now();
      requestAnimationFrame(() =>
        requestAnimationFrame(() =>
          resolve({
            injected,
            routed,
            already,
            dom,
            painted: Date.now(),
            timeOrigin: performance.timeOrigin,
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
            rows: document.querySelectorAll(rowSelector).length,
          }),
        ),
      );
    };
    if (document.querySelector(rowSelector)) return finish(true);
    const mo = new MutationObserver(() => {
      if (document.querySelector(rowSelector)) {
        mo.disconnect();
        finish(false);
      }
    });
    mo.observe(document.documentElement, { childList: true, subtree: true });
  });
}

async function oneRun(n) {
  if (dropCaches) {
    // A cold OS page cache too: the mirror and the WebKit libraries are read from disk.
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  }
  const driver = await startDriver();
  const t0 = Date.now();
  let browser;
  let pid = null;
  try {
    browser = await remote({
      hostname: '127.0.0.1',
      port: driver.port,
      logLevel: 'error',
      connectionRetryTimeout: 60000,
      capabilities: { 'tauri:options': { application: wrapper, args: ['--data-dir', dataDir] } },
    });
    const session = Date.now();
    await browser.setTimeout({ script: 60000, implicit: 0 });
    const page = await browser.execute(awaitOrdersPaint, ROW);
    const spawn = lastSpawn();
    pid = spawn.pid;
    // Read right after the paint (one WebDriver round trip later): a figure the machine's other
    // load barely changes, unlike the wall-clock time.
    const cpu = tree(pid).reduce((a, p) => a + cpuMs(p.pid), 0);
    if (spawn.spawnMs < t0 - 1000) throw new Error('the wrapper did not record this launch');
    await sleep(idleMs);
    const mem = memory(pid);
    const drivers = tree(process.pid)
      .filter((p) => p.pid !== process.pid && !mem.list.some((m) => m.pid === p.pid))
      .map((p) => ({ ...p, ...rollup(p.pid) }));
    const r = {
      run: n,
      paintMs: page.painted - spawn.spawnMs,
      domMs: page.dom - spawn.spawnMs,
      sessionMs: session - spawn.spawnMs,
      injectedMs: page.injected - spawn.spawnMs,
      navStartMs: page.timeOrigin - spawn.spawnMs,
      fcpMs: page.fcp === null ? null : page.timeOrigin + page.fcp - spawn.spawnMs,
      cpuMs: cpu,
      routed: page.routed,
      already: page.already,
      rows: page.rows,
      pssMB: mem.pss / 1024,
      rssMB: mem.rss / 1024,
      processes: mem.list.map((p) => `${p.comm}[${p.pid}] pss ${(p.pss / 1024).toFixed(0)} rss ${(p.rss / 1024).toFixed(0)}`),
      driverPssMB: drivers.reduce((a, p) => a + p.pss, 0) / 1024,
    };
    return r;
  } finally {
    await browser?.deleteSession().catch(() => {});
    if (pid !== null && !(await waitGone(pid, 5000))) {
      // Not closed by the session's end: leave nothing behind (single-instance would refuse
      // the next launch otherwise).
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      await waitGone(pid, 3000);
    }
    await driver.stop();
  }
}

const fmt = (v) => (v === null || Number.isNaN(v) ? '—' : v.toFixed(0));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const results = [];
for (let n = 1; n <= runs; n++) {
  const r = await oneRun(n);
  results.push(r);
  console.log(
    `run ${n}: first orders paint ${fmt(r.paintMs)} ms (rows in DOM ${fmt(r.domMs)}, page navigation start ${fmt(r.navStartMs)}, ` +
      `first contentful paint ${fmt(r.fcpMs)}, CPU time of the app + WebKit by then ${fmt(r.cpuMs)}, WebDriver session ${fmt(r.sessionMs)}, script injected ${fmt(r.injectedMs)}; ` +
      `already routed: ${r.routed}, rows already there: ${r.already}, rows ${r.rows}) | ` +
      `idle ${idleMs / 1000} s: PSS ${fmt(r.pssMB)} MB, RSS ${fmt(r.rssMB)} MB`,
  );
  for (const p of r.processes) console.log(`    ${p}`);
  console.log(`    (excluded: tauri-driver + WebKitWebDriver PSS ${fmt(r.driverPssMB)} MB)`);
}

const col = (k) => results.map((r) => r[k]);
console.log('');
console.log(`summary over ${runs} runs (targets: first paint <= 1500 ms, total PSS <= 350 MB):`);
console.log(`  cold start to first orders paint: median ${fmt(median(col('paintMs')))} ms, worst ${fmt(Math.max(...col('paintMs')))} ms`);
console.log(`  rows in DOM (before the two frames): median ${fmt(median(col('domMs')))} ms, worst ${fmt(Math.max(...col('domMs')))} ms`);
console.log(`  CPU time (app + WebKit processes, user + system) to first paint: median ${fmt(median(col('cpuMs')))} ms, worst ${fmt(Math.max(...col('cpuMs')))} ms`);
console.log(`  page navigation start: median ${fmt(median(col('navStartMs')))} ms`);
console.log(`  idle PSS: median ${fmt(median(col('pssMB')))} MB, worst ${fmt(Math.max(...col('pssMB')))} MB`);
console.log(`  idle RSS: median ${fmt(median(col('rssMB')))} MB, worst ${fmt(Math.max(...col('rssMB')))} MB`);
