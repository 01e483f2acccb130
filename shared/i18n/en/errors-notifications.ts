/** The core's notifications errors (keys `errors.notifications.*`, raised with AppError; the French side is fr/errors-notifications.ts). */
export default {
  nothingWasSavedTry: '{reason} Nothing was saved; try again later.',
  nothingWasSaved: '{msg} Nothing was saved.',
  eitherNewTelegramCredentials: 'Either new Telegram credentials or a disconnect, not both.',
  enterBotTokenFrom: 'Enter the bot token (from BotFather) with the chat id.',
  storedBotTokenMissing: 'The stored bot token is missing from the secret store: enter it again.',
  setUpTelegramFirst: 'Set up Telegram first (bot token and chat id, checked with "Send test message") before sending notifications there.',
  enterChatIdWith: 'Enter the chat id with the bot token.',
  telegramNotSetUp: 'Telegram is not set up: enter the bot token and chat id.',
  tokenWrong: 'The bot token is wrong: {reason} Check it with BotFather. Nothing was saved.',
  chatIdWrong: 'The chat id is wrong: {reason} Send /start to the bot from that chat (or add the bot to the group), then use the chat’s id. Nothing was saved.',
};
