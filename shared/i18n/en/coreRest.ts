/**
 * Sentences the core writes for a person outside errors, for the backtest, the secret store, Telegram
 * and statistics: stored or sent in English (the public API) with their key and parameters beside
 * them, worded in the profile's language by the renderer (`coreText`).
 */
export default {
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
