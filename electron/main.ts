import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, session as electronSession, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import type { Session } from './api/dispatch';
import { loadConfig } from './config';
import { CoreHost } from './core';
import { devServerUrl, isAllowedExternal, isOurPage, permissionAllowed } from './ipc-guard';
import { desktopNotificationFor } from './notifications/desktop';

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
    if (!checkSender(e)) return { error: { code: 'unauthenticated', message: 'Refused: the call did not come from the Aristobot3 window.' } };
    const session = sessions.get(e.sender.id);
    if (!session) return { error: { code: 'unauthenticated', message: 'No session for this window.' } };
    return host.call(String(method), params, session);
  });

  // Desktop notifications (the notification service routes them; the renderer here does not show them).
  host.bus.on((ev) => {
    const n = win && !win.isDestroyed() ? desktopNotificationFor(ev, sessions.get(win.webContents.id)?.profile?.id) : null;
    if (!n || !Notification.isSupported()) return;
    const shown = new Notification({ title: n.title, body: n.body, silent: false });
    shown.on('click', () => win?.show());
    shown.show();
  });

  host.bus.on((ev) => {
    if (!win || win.isDestroyed()) return;
    const s = sessions.get(win.webContents.id);
    if (!s || !s.subscriptions.has(ev.event)) return;
    if (ev.profileId && s.profile?.id !== ev.profileId) return;
    win.webContents.send('aristobot:event', { event: ev.event, data: ev.data });
  });

  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
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
    tray.setToolTip('Aristobot3');
    tray.on('click', () => (win?.isVisible() ? win.hide() : win?.show()));
    tray.setContextMenu(Menu.buildFromTemplate([
      { label: 'Show / hide Aristobot3', click: () => (win?.isVisible() ? win.hide() : win?.show()) },
      { type: 'separator' },
      { label: 'Quit', click: () => app.quit() },
    ]));
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
