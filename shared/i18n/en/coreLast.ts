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
  /** The word naming what was asked, inside another message's sentence. */
  checker: {
    noStart: 'The strategy checker did not start within {seconds} s',
    tooLong: 'The strategy check took longer than {seconds} s',
    outOfMemory: 'The strategy check ran out of memory (over {memoryMb} MB) and was stopped.',
    crashed: 'The strategy check stopped unexpectedly ({reason}).',
    exited: 'The strategy check stopped unexpectedly (its worker exited with code {code}).',
  },
  field: {
    value: 'value',
    amount: 'amount',
    price: 'price',
    triggerPrice: 'trigger price',
  },
  operation: {
    placed: 'placed',
    cancelled: 'cancelled',
    modified: 'modified',
    protected: 'protected',
  },
  url: {
    exchangeBase: 'The exchange base URL',
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
