import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import type { UserConfig } from 'vite';

/** The renderer build, shared by electron-vite (desktop) and the headless shell (`npm run serve`). */
export const rendererRoot = resolve(import.meta.dirname, 'renderer');
export const rendererOutDir = resolve(import.meta.dirname, 'out/renderer');

export function rendererConfig(): UserConfig {
  return {
    root: rendererRoot,
    base: './',
    plugins: [vue()],
    resolve: { alias: { '@shared': resolve(import.meta.dirname, 'shared') } },
    // Monaco's workers (Strategies page) are ES modules with code splitting inside.
    worker: { format: 'es' },
    build: { outDir: rendererOutDir, emptyOutDir: true, rollupOptions: { input: resolve(rendererRoot, 'index.html') } },
  };
}
export default rendererConfig();
