import type { Shape } from '../index';
import type en from '../en/coreRest';

export default {
  telegram: {
    unreachable: 'Impossible de joindre Telegram.',
    unreachableWhy: 'Impossible de joindre Telegram ({why}).',
    timeout: 'Impossible de joindre Telegram (aucune réponse en {ms} ms).',
    slowDown: 'Telegram demande de ralentir ({description}).',
    server: 'Telegram a répondu par une erreur ({code} {description}).',
    token: 'Telegram a refusé le jeton du bot ({code} {description}).',
    chat: 'Telegram ne peut pas livrer de message dans ce chat ({code} {description}).',
    other: 'Telegram a refusé le message ({code} {description}).',
  },
} satisfies Shape<typeof en>;
