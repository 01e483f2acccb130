/**
 * Sentences the core writes for a person outside errors, for the backtest, the secret store, Telegram
 * and statistics: stored or sent in English (the public API) with their key and parameters beside
 * them, worded in the profile's language by the renderer (`coreText`).
 */
export default {
  backtest: {
    appStopped: 'The app stopped during the run.',
  },
  csv: {
    fields: 'expected {need} fields, found {found}',
    time: '"{value}" is not an ISO date/time or epoch milliseconds',
    number: '{column} "{value}" is not a number',
    positive: 'prices must be positive',
    volume: 'volume must not be negative',
    inconsistent: 'inconsistent candle: high {high} / low {low} do not contain open {open} and close {close}',
    duplicate: 'the time {time} is already on line {dup}',
    row: '{line}: {problem}.',
    rows1: '{a}',
    rows2: '{a} {b}',
    rows3: '{a} {b} {c}',
  },
  stats: {
    lotsUnpriced: 'no price of {base} in {currency} in the latest snapshot: its open lots are left out of the unrealised P&L',
    lotsOtherQuote: 'open lots quoted in {quote} are not valued in {currency}',
    assetUnpriced: 'no {asset}/{currency} price at the latest snapshot: {asset} is left out of the equity',
  },
  telegram: {
    unreachable: 'Telegram could not be reached.',
    unreachableWhy: 'Telegram could not be reached ({why}).',
    timeout: 'Telegram could not be reached (no answer within {ms} ms).',
    slowDown: 'Telegram asks to slow down ({description}).',
    server: 'Telegram answered an error ({code} {description}).',
    token: 'Telegram refused the bot token ({code} {description}).',
    chat: 'Telegram cannot deliver to this chat ({code} {description}).',
    other: 'Telegram refused the message ({code} {description}).',
  },
};
