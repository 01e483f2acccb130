import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { call, errorMessage, on, onConnection } from '../api';

type Status = MethodOutput<'app.status'>;

/** App-wide state: the core's status, the connection, development mode. */
export const useAppStore = defineStore('app', () => {
  const status = ref<Status | null>(null);
  const connected = ref(true);
  const debug = ref({ available: false, enabled: false });
  /** Why the app cannot be reached at all (headless: no access token in this tab). */
  const fatal = ref<string | null>(null);

  async function refresh(): Promise<void> {
    try {
      status.value = await call('app.status');
    } catch (e) {
      fatal.value = errorMessage(e);
      return;
    }
    if (status.value.state === 'ready') debug.value = await call('debug.get');
  }
  async function retry(): Promise<void> {
    status.value = await call('app.retry');
    if (status.value.state === 'ready') debug.value = await call('debug.get');
  }
  onConnection((up) => {
    connected.value = up;
    if (up) void refresh();
  });
  on('debug.changed', (d) => (debug.value = d));
  return { status, connected, debug, fatal, refresh, retry };
});
