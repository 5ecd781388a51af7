import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Relative asset paths so ui/dist loads the same from tauri:// and from a static server.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  clearScreen: false,
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: {
    environment: 'jsdom',
    include: ['tests/unit/**/*.test.ts'],
  },
});
