import type { Shape } from '../index';
import type en from '../en/coreRest';

export default {
  backtest: {
    appStopped: 'L\'application s\'est arrêtée pendant le backtest.',
  },
  csv: {
    fields: '{need} champs attendus, {found} trouvés',
    time: '« {value} » n\'est ni une date/heure ISO ni un horodatage epoch en millisecondes',
    number: '{column} « {value} » n\'est pas un nombre',
    positive: 'les prix doivent être positifs',
    volume: 'le volume ne doit pas être négatif',
    inconsistent: 'bougie incohérente : high {high} / low {low} n\'encadrent pas open {open} et close {close}',
    duplicate: 'l\'heure {time} figure déjà à la ligne {dup}',
    row: '{line} : {problem}.',
    rows1: '{a}',
    rows2: '{a} {b}',
    rows3: '{a} {b} {c}',
  },
  stats: {
    lotsUnpriced: 'aucun prix de {base} en {currency} dans le dernier instantané : ses lots ouverts sont exclus du P&L latent',
    lotsOtherQuote: 'les lots ouverts cotés en {quote} ne sont pas valorisés en {currency}',
    assetUnpriced: 'aucun prix {asset}/{currency} au dernier instantané : {asset} est exclu du capital',
  },
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
