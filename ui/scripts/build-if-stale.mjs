// Builds ui/dist when it is missing or older than any source file, so `npm run test:browser`
// always tests what the sources say without rebuilding needlessly.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = resolve(fileURLToPath(new URL('..', import.meta.url)));
const built = join(ui, 'dist', 'index.html');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(
  newest(join(ui, 'src')),
  ...['index.html', 'vite.config.ts', 'svelte.config.js', 'package-lock.json'].map((f) => statSync(join(ui, f)).mtimeMs),
);
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  execFileSync('npm', ['run', 'build'], { cwd: ui, stdio: 'inherit' });
} else {
  console.log('ui/dist is up to date');
}
