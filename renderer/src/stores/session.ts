import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { MethodOutput } from '@shared/contract';
import { call, on, onConnection } from '../api';
import { d, setLocale, systemLocale } from '../i18n';

type Settings = MethodOutput<'settings.get'>;
export type Profile = { id: string; name: string };

const THEME_KEY = 'aristobot.theme';

function applyTheme(theme: 'dark' | 'light'): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem(THEME_KEY, theme); // remembered for the login screen only
}
applyTheme((localStorage.getItem(THEME_KEY) as 'dark' | 'light' | null) ?? 'dark');

/** Who is logged in on this window/connection, and their preferences. */
export const useSessionStore = defineStore('session', () => {
  const profile = ref<Profile | null>(null);
  const settings = ref<Settings | null>(null);
  const checked = ref(false);

  async function loadSettings(): Promise<void> {
    settings.value = profile.value ? await call('settings.get') : null;
  }
  async function refresh(): Promise<void> {
    const s = await call('session.current');
    profile.value = s?.profile ?? null;
    await loadSettings();
    checked.value = true;
  }
  async function login(name: string, password: string): Promise<void> {
    const s = await call('profiles.login', { name, password });
    profile.value = s.profile;
    await loadSettings();
  }
  async function adopt(p: Profile | null): Promise<void> {
    profile.value = p;
    await loadSettings();
  }
  async function logout(): Promise<void> {
    await call('profiles.logout');
    profile.value = null;
    settings.value = null;
  }
  async function update(patch: Partial<Pick<Settings, 'theme' | 'timezone' | 'language'>>): Promise<void> {
    settings.value = await call('settings.update', patch);
  }

  /**
   * Format a time for display: numeric date and 24-hour time in the language's order
   * (11/30/2026, 14:05 in English, 30/11/2026 14:05 in French), in the profile's chosen zone
   * (UTC, marked as such, or the computer's).
   */
  function formatTime(ms: number | string | Date, withSeconds = false): string {
    const utc = settings.value?.timezone === 'UTC';
    const text = d(ms, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', ...(withSeconds ? { second: '2-digit' } : {}), hourCycle: 'h23' }, utc);
    return utc && text !== '—' ? `${text} UTC` : text;
  }

  watch(
    settings,
    (s) => {
      if (!s) return;
      applyTheme(s.theme);
      setLocale(s.language ?? systemLocale());
    },
    { immediate: true },
  );
  on('settings.changed', (s) => (settings.value = s));
  on('session.changed', (s) => {
    profile.value = s?.profile ?? null;
    if (!s) settings.value = null;
  });
  // A reconnected socket is a new session on the core side: check who we are.
  onConnection((up) => up && void refresh());
  return { profile, settings, checked, refresh, login, adopt, logout, update, formatTime };
});
