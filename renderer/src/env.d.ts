/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** What electron/preload.ts exposes through contextBridge (nothing else). */
interface AristobotBridge {
  invoke(method: string, params?: unknown): Promise<{ result: unknown } | { error: { code: string; message: string; key?: string; params?: import('@shared/i18n').Params; details?: unknown } }>;
  subscribe(listener: (e: { event: string; data: unknown }) => void): () => void;
}
interface Window {
  aristobot?: AristobotBridge;
}
