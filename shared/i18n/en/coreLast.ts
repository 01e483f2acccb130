/**
 * The last sentences the core wrote in English only (i18nlast): the Telegram queue's own notes on a
 * message it could not send, the operation named inside the keychain's errors, and the desktop tray menu. Stored or sent in
 * English with their key and parameters beside them; the renderer words them with `coreText`.
 */
export default {
  telegram: {
    notSetUp: 'Telegram is not set up: enter the bot token and chat id in Account → Notifications.',
    tokenMissing: 'Telegram is not set up (or its token is missing from the secret store): enter the bot token and chat id again in Account → Notifications.',
    disconnected: 'Telegram was disconnected before this message could be delivered.',
  },
  keychain: {
    store: 'store a secret in',
    read: 'read a secret from',
    delete: 'delete a secret from',
  },
  tray: {
    engine: 'Trading engine',
    live: '{count} live activation|{count} live activations',
    none: 'No live activations',
    logIn: 'Log in to see the activations',
    protection: 'Engine off: stop-loss and take-profit still executed',
    open: 'Open Aristobot3',
    quit: 'Quit',
    tooltipOn: 'Aristobot3 — engine on, {live}',
    tooltipOff: 'Aristobot3 — engine off, {live}',
  },
};
