import { describe, expect, it } from 'vitest';
import { trayModel } from './tray-model';

const labels = (s: Parameters<typeof trayModel>[0]) => trayModel(s).items.map((i) => (i.kind === 'separator' ? '---' : i.label));

describe('tray menu model', () => {
  it('a checkable engine item, the live count, Open and Quit', () => {
    const m = trayModel({ engineRunning: true, live: 3 });
    expect(m.items[0]).toEqual({ kind: 'checkbox', id: 'engine', label: 'Trading engine', checked: true, enabled: true, action: 'toggle-engine' });
    expect(labels({ engineRunning: true, live: 3 })).toEqual(['Trading engine', '3 live activations', '---', 'Open Aristobot3', 'Quit']);
    expect(m.tooltip).toBe('Aristobot3 — engine on, 3 live activations');
  });

  it('engine off: unchecked, and says that stop-loss and take-profit keep working', () => {
    const m = trayModel({ engineRunning: false, live: 1 });
    expect(m.items[0]).toMatchObject({ checked: false, enabled: true });
    expect(labels({ engineRunning: false, live: 1 })).toEqual(['Trading engine', '1 live activation', 'Engine off: stop-loss and take-profit still executed', '---', 'Open Aristobot3', 'Quit']);
    expect(m.tooltip).toBe('Aristobot3 — engine off, 1 live activation');
  });

  it('no profile logged in: the switch is disabled; Open and Quit stay', () => {
    const m = trayModel({ engineRunning: null, live: 0 });
    expect(m.items[0]).toMatchObject({ checked: false, enabled: false });
    expect(labels({ engineRunning: null, live: 0 })).toEqual(['Trading engine', 'Log in to see the activations', '---', 'Open Aristobot3', 'Quit']);
    expect(labels({ engineRunning: true, live: 0 })[1]).toBe('No live activations');
  });
});

describe('tray menu model in French', () => {
  it('the window profile in French: every label and the tooltip in French', () => {
    const fr = (s: Parameters<typeof trayModel>[0]) => trayModel(s, 'fr').items.map((i) => (i.kind === 'separator' ? '---' : i.label));
    expect(fr({ engineRunning: false, live: 2 })).toEqual(['Moteur de trading', '2 activations en cours', 'Moteur arrêté : stop-loss et take-profit toujours exécutés', '---', 'Ouvrir Aristobot3', 'Quitter']);
    expect(fr({ engineRunning: true, live: 1 })[1]).toBe('1 activation en cours');
    expect(fr({ engineRunning: true, live: 0 })[1]).toBe('Aucune activation en cours');
    expect(fr({ engineRunning: null, live: 0 })[1]).toBe('Connectez-vous pour voir les activations');
    expect(trayModel({ engineRunning: true, live: 0 }, 'fr').tooltip).toBe('Aristobot3 — moteur activé, aucune activation en cours');
    expect(trayModel({ engineRunning: false, live: 1500 }, 'fr').tooltip).toBe('Aristobot3 — moteur arrêté, 1\u202f500 activations en cours');
  });
});
