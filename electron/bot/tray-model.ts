/**
 * The system tray's menu as data (electron/main.ts turns it into an Electron Menu; the Electron
 * binary cannot run in tests, so the model is tested as a pure function). Built from the same state
 * as the header's status bar: the engine switch and the number of live activations.
 */

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

export function trayModel(s: TrayState): { tooltip: string; items: TrayItem[] } {
  const known = s.engineRunning !== null;
  const live = Math.max(0, Math.floor(s.live));
  const liveLabel = live === 0 ? 'No live activations' : live === 1 ? '1 live activation' : `${live} live activations`;
  const items: TrayItem[] = [
    { kind: 'checkbox', id: 'engine', label: 'Trading engine', checked: s.engineRunning === true, enabled: known, action: 'toggle-engine' },
    { kind: 'label', id: 'live', label: known ? liveLabel : 'Log in to see the activations', enabled: false },
  ];
  if (s.engineRunning === false) items.push({ kind: 'label', id: 'protection', label: 'Engine off: stop-loss and take-profit still executed', enabled: false });
  items.push({ kind: 'separator' }, { kind: 'button', id: 'open', label: 'Open Aristobot3', enabled: true, action: 'open' }, { kind: 'button', id: 'quit', label: 'Quit', enabled: true, action: 'quit' });
  const tooltip = !known ? 'Aristobot3' : `Aristobot3 — engine ${s.engineRunning ? 'on' : 'off'}, ${liveLabel.toLowerCase()}`;
  return { tooltip, items };
}
