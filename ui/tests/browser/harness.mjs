// Browser-test harness: serves the BUILT ui/dist on 127.0.0.1 with a strict CSP and drives
// Debian's Chromium through playwright-core with a fresh profile. Every test page collects
// console errors, page errors and CSP violations, and the test fails if there are any.
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const UI = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIST = join(UI, 'dist');
export const SCREENSHOTS = join(UI, 'screenshots');

// The app's CSP is at least this strict: no inline scripts or styles, nothing external.
export const CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'";

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

export async function startServer() {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('ui/dist is missing: run `npm run build` first');
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(DIST, path === '/' ? 'index.html' : path);
    if (!file.startsWith(DIST)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

export async function startBrowser({ colorScheme = 'light' } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'fluxstore-ui-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1200, height: 800 },
    colorScheme,
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  // Copy buttons write to the real clipboard; reading it back proves what was copied.
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Open the app with the in-memory backend; returns the page and its problem list. */
export async function openApp(context, baseUrl, { state = 'fresh', hash = '' } = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const query = state === 'fresh' ? '?backend=memory' : `?backend=memory&state=${state}`;
  await page.goto(`${baseUrl}${query}${hash}`);
  await page.locator('main h1').first().waitFor();
  return { page, problems };
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Call a simulation control of the in-memory backend inside the page. */
export function simulate(page, method, ...args) {
  return page.evaluate(([m, a]) => window.__fluxstoreMemory[m](...a), [method, args]);
}
