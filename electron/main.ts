import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, session as electronSession, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import type { Session } from './api/dispatch';
import type { MenuItemConstructorOptions } from 'electron';
import { trayModel, type TrayAction, type TrayItem, type TrayState } from './bot/tray-model';
import { loadConfig } from './config';
import { errorPayload } from '../shared/errors';
import { CoreHost } from './core';
import { devServerUrl, isAllowedExternal, isOurPage, permissionAllowed } from './ipc-guard';
import { desktopLocale, showDesktopNotification } from './notifications/desktop';
import { wordError } from '../shared/i18n/wording';
import type { Locale } from '../shared/i18n';

/**
 * The Electron shell: one instance, one window, a tray toggle. The core (shared with the headless
 * shell) runs here in the main process; the renderer reaches it only through the preload bridge.
 */
const appRoot = app.getAppPath();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let win: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let quitting = false;
  let trayState: TrayState = { engineRunning: null, live: 0 };
  /** The tray's language: the window profile's, else the system's (read again at each refresh). */
  let trayLocale: Locale | null = null;
  const config = loadConfig({ ...process.env, ARISTOBOT_DATA_DIR: process.env.ARISTOBOT_DATA_DIR || app.getPath('userData') }, appRoot);
  delete process.env.ARISTOBOT_VAULT_PASSPHRASE; // read once; child processes (PostgreSQL) must not inherit it
  const host = new CoreHost(config, 'electron');
  const sessions = new Map<number, Session>(); // per webContents

  // The electron-vite dev server: honoured in development builds only (never in a packaged app).
  const rendererUrl = devServerUrl(process.env, app.isPackaged);
  const indexFile = join(appRoot, 'out', 'renderer', 'index.html');
  const isOurs = (url: string): boolean => isOurPage(url, { indexFile, devServerUrl: rendererUrl });

  /** Only our own page's main frame may call the core. */
  const checkSender = (e: IpcMainInvokeEvent): boolean => !!win && e.sender === win.webContents && e.senderFrame === win.webContents.mainFrame && isOurs(e.senderFrame.url);

  /** The window's session (the engine switch and the activations are those of its logged-in profile). */
  const windowSession = (): Session | undefined => (win && !win.isDestroyed() ? sessions.get(win.webContents.id) : undefined);

  function showWindow(): void {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }

  async function trayAction(action: TrayAction): Promise<void> {
    if (action === 'open') return showWindow();
    if (action === 'quit') return app.quit();
    const s = windowSession();
    if (!s?.profile || trayState.engineRunning === null) return;
    // engine.set emits engine.changed, which redraws the tray (and the window's header)
    const r = await host.call('engine.set', { running: !trayState.engineRunning }, s);
    if ('error' in r) {
      host.log.warn({ code: r.error.code, message: r.error.message }, 'tray: the engine switch was refused');
      tray?.displayBalloon({ title: 'Aristobot3', content: wordError(trayLocale ?? desktopLocale(null, app.getLocale()), r.error) }); // Windows; elsewhere the log
    }
    await refreshTray();
  }

  function renderTray(): void {
    if (!tray || tray.isDestroyed()) return;
    const model = trayModel(trayState, trayLocale ?? desktopLocale(null, app.getLocale()));
    const item = (i: TrayItem): MenuItemConstructorOptions => {
      switch (i.kind) {
        case 'separator':
          return { type: 'separator' };
        case 'checkbox':
          return { type: 'checkbox', label: i.label, checked: i.checked, enabled: i.enabled, click: () => void trayAction(i.action) };
        case 'label':
          return { label: i.label, enabled: false };
        case 'button':
          return { label: i.label, click: () => void trayAction(i.action) };
      }
    };
    tray.setToolTip(model.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(model.items.map(item)));
  }

  /** Reads the engine state of the window's profile (none logged in: the switch is disabled). */
  async function refreshTray(): Promise<void> {
    const s = windowSession();
    if (!s?.profile) {
      trayState = { engineRunning: null, live: 0 };
      trayLocale = null;
    } else {
      const l = await host.call('settings.get', {}, s);
      trayLocale = desktopLocale('result' in l ? (l.result as { language: string | null }).language : null, app.getLocale());
      const r = await host.call('engine.get', {}, s);
      if ('result' in r) {
        const e = r.result as { running: boolean; live: number };
        trayState = { engineRunning: e.running, live: e.live };
      }
    }
    renderTray();
  }

  function createWindow(): void {
    win = new BrowserWindow({
      width: 1440,
      height: 900,
      minWidth: 1024,
      minHeight: 680,
      backgroundColor: '#0b0e14',
      title: 'Aristobot3',
      show: false,
      webPreferences: { preload: join(import.meta.dirname, '../preload/preload.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false },
    });
    const wc = win.webContents;
    sessions.set(wc.id, host.sessions.open());
    wc.on('will-navigate', (e, url) => {
      if (!isOurs(url)) e.preventDefault();
    });
    wc.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternal(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    wc.on('did-navigate', () => {
      // a reload is a new page: a fresh session, as in the browser
      const old = sessions.get(wc.id);
      if (old) host.sessions.close(old);
      sessions.set(wc.id, host.sessions.open());
      void refreshTray();
    });
    win.once('ready-to-show', () => win?.show());
    win.on('close', (e) => {
      if (!quitting && tray) {
        e.preventDefault();
        win?.hide();
      }
    });
    if (rendererUrl) void win.loadURL(rendererUrl);
    else void win.loadFile(indexFile);
  }

  ipcMain.handle('aristobot:invoke', async (e, method: unknown, params: unknown) => {
    if (!checkSender(e)) return { error: errorPayload('unauthenticated', 'errors.api.refusedSender') };
    const session = sessions.get(e.sender.id);
    if (!session) return { error: errorPayload('unauthenticated', 'errors.api.noSession') };
    return host.call(String(method), params, session);
  });

  // Desktop notifications (the notification service routes them; the renderer here does not show
  // them), worded in the window's profile language, else the system's.
  host.bus.on((ev) => {
    const session = win && !win.isDestroyed() ? sessions.get(win.webContents.id) : undefined;
    if (!session || !Notification.isSupported()) return;
    void showDesktopNotification(ev, session.profile?.id, {
      language: async () => {
        const r = await host.call('settings.get', {}, session);
        return 'result' in r ? (r.result as { language: string | null }).language : null;
      },
      systemLocale: () => app.getLocale(),
      show: (n) => {
        const shown = new Notification({ title: n.title, body: n.body, silent: false });
        shown.on('click', () => win?.show());
        shown.show();
      },
    });
  });

  host.bus.on((ev) => {
    if (!win || win.isDestroyed()) return;
    const s = sessions.get(win.webContents.id);
    if (!s || !s.subscriptions.has(ev.event)) return;
    if (ev.profileId && s.profile?.id !== ev.profileId) return;
    win.webContents.send('aristobot:event', { event: ev.event, data: ev.data });
  });

  app.on('second-instance', () => showWindow());

  // The tray follows the window's profile: its engine switch and its live activations.
  host.bus.on((ev) => {
    if (ev.event !== 'engine.changed' && ev.event !== 'bot.updated' && ev.event !== 'settings.changed') return;
    const profile = windowSession()?.profile;
    if (!profile || (ev.profileId && ev.profileId !== profile.id)) return;
    if (ev.event === 'engine.changed') {
      const e = ev.data as { running: boolean; live: number };
      trayState = { engineRunning: e.running, live: e.live };
      renderTray();
    } else void refreshTray();
  });

  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });

  app.whenReady().then(async () => {
    Menu.setApplicationMenu(null);
    // The app needs no web permission (camera, notifications, geolocation, …): refuse them all.
    electronSession.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permissionAllowed(permission)));
    electronSession.defaultSession.setPermissionCheckHandler((_wc, permission) => permissionAllowed(permission));
    const icon = nativeImage.createFromPath(join(appRoot, 'resources', 'tray.png'));
    tray = new Tray(icon);
    tray.on('click', () => (win?.isVisible() ? win.hide() : showWindow()));
    // the menu (trayModel): "Trading engine" (checkable), the live activations, Open, Quit
    renderTray();
    // a login or logout in the window changes whose engine the tray shows (checked every second, no core call unless it changed)
    let trayProfile: string | null = null;
    setInterval(() => {
      const id = windowSession()?.profile?.id ?? null;
      if (id === trayProfile) return;
      trayProfile = id;
      void refreshTray();
    }, 1000).unref();
    void host.start();
    createWindow();
  });

  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    void host.stop().finally(() => app.exit(0));
  });
}
