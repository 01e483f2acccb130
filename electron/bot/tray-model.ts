/**
 * The system tray's menu as data (electron/main.ts turns it into an Electron Menu; the Electron
 * binary cannot run in tests, so the model is tested as a pure function). Built from the same state
 * as the header's status bar: the engine switch and the number of live activations; worded in the
 * window profile's language (`coreLast.tray.*`), else the system's.
 */
import { translate, type Locale } from '../../shared/i18n';

export type TrayAction = 'toggle-engine' | 'open' | 'quit';

export type TrayItem =
  | { kind: 'checkbox'; id: 'engine'; label: string; checked: boolean; enabled: boolean; action: TrayAction }
  | { kind: 'label'; id: 'live' | 'protection'; label: string; enabled: false }
  | { kind: 'separator' }
  | { kind: 'button'; id: 'open' | 'quit'; label: string; enabled: true; action: TrayAction };

export interface TrayState {
  /** null: no profile logged in (the engine switch is per profile) */
  engineRunning: boolean | null;
  /** activations in state running */
  live: number;
}

export function trayModel(s: TrayState, locale: Locale = 'en'): { tooltip: string; items: TrayItem[] } {
  const w = (key: string, params?: Record<string, string | number>) => translate(locale, `coreLast.tray.${key}`, params);
  const known = s.engineRunning !== null;
  const live = Math.max(0, Math.floor(s.live));
  const liveLabel = live === 0 ? w('none') : w('live', { count: live });
  const items: TrayItem[] = [
    { kind: 'checkbox', id: 'engine', label: w('engine'), checked: s.engineRunning === true, enabled: known, action: 'toggle-engine' },
    { kind: 'label', id: 'live', label: known ? liveLabel : w('logIn'), enabled: false },
  ];
  if (s.engineRunning === false) items.push({ kind: 'label', id: 'protection', label: w('protection'), enabled: false });
  items.push({ kind: 'separator' }, { kind: 'button', id: 'open', label: w('open'), enabled: true, action: 'open' }, { kind: 'button', id: 'quit', label: w('quit'), enabled: true, action: 'quit' });
  const tooltip = !known ? 'Aristobot3' : w(s.engineRunning ? 'tooltipOn' : 'tooltipOff', { live: liveLabel.charAt(0).toLowerCase() + liveLabel.slice(1) });
  return { tooltip, items };
}
