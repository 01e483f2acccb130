import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MethodInput, MethodOutput } from '@shared/contract';
import { call, on } from '../api';
import { coreText } from '../i18n';
import { useAppStore } from './app';

type Item = MethodOutput<'notifications.list'>['items'][number];
type Settings = MethodOutput<'notifications.settings.get'>;

/** Whether the browser may show desktop notifications (headless shell only; Electron shows its own). */
export function browserPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/**
 * The bell: the latest notifications, the unread count, what waits for Telegram; and the settings.
 * In the headless shell a notification routed to the desktop is shown with the browser's
 * Notification API once the user allowed it (in Electron the main process shows it).
 */
export const useNotificationsStore = defineStore('notifications', () => {
  const items = ref<Item[]>([]);
  const unread = ref(0);
  const pendingTelegram = ref(0);
  const settings = ref<Settings | null>(null);
  const permission = ref(browserPermission());
  const app = useAppStore();

  async function load(): Promise<void> {
    const r = await call('notifications.list', { limit: 50 });
    items.value = r.items;
    unread.value = r.unread;
    pendingTelegram.value = r.pendingTelegram;
  }
  async function markRead(ids?: string[]): Promise<void> {
    const r = await call('notifications.markRead', ids ? { ids } : { all: true });
    unread.value = r.unread;
    const set = ids ? new Set(ids) : null;
    items.value = items.value.map((n) => (!set || set.has(n.id) ? { ...n, read: true } : n));
  }
  async function loadSettings(): Promise<void> {
    settings.value = await call('notifications.settings.get');
  }
  async function updateSettings(patch: MethodInput<'notifications.settings.update'>): Promise<void> {
    settings.value = await call('notifications.settings.update', patch);
  }
  async function test(input: MethodInput<'notifications.test'>): Promise<MethodOutput<'notifications.test'>> {
    const r = await call('notifications.test', input);
    if (r.saved) await loadSettings();
    return r;
  }
  async function askPermission(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    permission.value = await Notification.requestPermission();
  }

  on('notifications.new', (n) => {
    items.value = [n as Item, ...items.value.filter((x) => x.id !== n.id)].slice(0, 50);
    if (!n.read) unread.value += 1;
    if (n.telegram?.status === 'pending') pendingTelegram.value += 1;
    if (n.channels.includes('desktop') && app.status?.shell === 'headless' && browserPermission() === 'granted') {
      try {
        new Notification(coreText({ ...n.titleText, message: n.title }), { body: coreText({ ...n.bodyText, message: n.body }), tag: n.id });
      } catch {
        // a browser that only allows notifications from a service worker: the bell still has it
      }
    }
  });
  on('notifications.changed', (c) => {
    unread.value = c.unread;
    pendingTelegram.value = c.pendingTelegram;
    // a delivery state moved: refresh the list quietly
    void load().catch(() => undefined);
  });

  return { items, unread, pendingTelegram, settings, permission, load, markRead, loadSettings, updateSettings, test, askPermission };
});
