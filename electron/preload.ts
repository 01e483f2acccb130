import { contextBridge, ipcRenderer } from 'electron';

/**
 * The whole bridge: invoke a contract method, subscribe to events. Nothing else of Node or
 * Electron reaches the page. The error's code travels inside the payload (IPC keeps only messages).
 */
type Listener = (e: { event: string; data: unknown }) => void;

contextBridge.exposeInMainWorld('aristobot', {
  invoke: (method: string, params?: unknown) => ipcRenderer.invoke('aristobot:invoke', method, params),
  subscribe: (listener: Listener) => {
    const handler = (_e: unknown, msg: { event: string; data: unknown }) => listener(msg);
    ipcRenderer.on('aristobot:event', handler);
    return () => ipcRenderer.removeListener('aristobot:event', handler);
  },
});
