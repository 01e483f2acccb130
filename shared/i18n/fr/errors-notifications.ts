import type { Shape } from '../index';
import type en from '../en/errors-notifications';

export default {
  nothingWasSavedTry: '{reason} Rien n\'a été enregistré ; réessayez plus tard.',
  nothingWasSaved: '{msg} Rien n\'a été enregistré.',
  eitherNewTelegramCredentials: 'Soit de nouveaux identifiants Telegram, soit une déconnexion, pas les deux.',
  enterBotTokenFrom: 'Saisissez le jeton du bot (donné par BotFather) avec le chat id.',
  storedBotTokenMissing: 'Le jeton du bot enregistré est absent du coffre des secrets : saisissez-le de nouveau.',
  setUpTelegramFirst: 'Configurez d\'abord Telegram (jeton du bot et chat id, vérifiés avec « Envoyer un message de test ») avant d\'y envoyer des notifications.',
  enterChatIdWith: 'Saisissez le chat id avec le jeton du bot.',
  telegramNotSetUp: 'Telegram n\'est pas configuré : saisissez le jeton du bot et le chat id.',
  tokenWrong: 'Le jeton du bot est erroné : {reason} Vérifiez-le auprès de BotFather. Rien n\'a été enregistré.',
  chatIdWrong: 'Le chat id est erroné : {reason} Envoyez /start au bot depuis ce chat (ou ajoutez le bot au groupe), puis utilisez l\'identifiant de ce chat. Rien n\'a été enregistré.',
} satisfies Shape<typeof en>;
