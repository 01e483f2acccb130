import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/main',
      rollupOptions: {
        // The strategy checker's worker thread is an entry of its own (electron/strategies/checker.ts
        // starts out/main/check-worker.js, beside the chunk that starts it: every file of the main
        // process stays in out/main).
        input: { main: resolve(import.meta.dirname, 'electron/main.ts'), 'check-worker': resolve(import.meta.dirname, 'electron/strategies/check-worker.ts') },
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/preload',
      rollupOptions: { input: { preload: resolve(import.meta.dirname, 'electron/preload.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: rendererConfig(),
});
