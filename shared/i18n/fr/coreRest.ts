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
  secrets: {
    vaultUsed: 'Les secrets sont conservés dans le coffre chiffré {path}.',
    vaultUsedExisting: 'Les secrets sont conservés dans le coffre chiffré {path} (il existe et ARISTOBOT_VAULT_PASSPHRASE est définie).',
    vaultUsedNoKeychain: 'Les secrets sont conservés dans le coffre chiffré {path} (aucun trousseau du système n\'a répondu).',
    vaultFailed: '{error} D\'ici là, les fonctions qui ont besoin de secrets (clés d\'API des plateformes, clés d\'IA, mot de passe d\'une base de données externe) sont indisponibles.',
    vaultNoPassphrase: 'Le coffre a été choisi (ARISTOBOT_SECRETS_BACKEND=vault) mais ARISTOBOT_VAULT_PASSPHRASE n\'est pas définie : les fonctions qui ont besoin de secrets (clés d\'API des plateformes, clés d\'IA, mot de passe d\'une base de données externe) sont donc indisponibles. Pour y remédier, définissez ARISTOBOT_VAULT_PASSPHRASE pour utiliser un fichier de coffre chiffré ({path}).',
    keychainUsed: 'Les secrets sont conservés dans le trousseau du système (service « {service} »).',
    keychainUsedPassphraseSet: 'Les secrets sont conservés dans le trousseau du système (service « {service} »). ARISTOBOT_VAULT_PASSPHRASE est définie mais inutile ; définissez ARISTOBOT_SECRETS_BACKEND=vault pour utiliser plutôt le fichier de coffre.',
    keychainUsedVaultIgnored: 'Les secrets sont conservés dans le trousseau du système (service « {service} »). Un fichier de coffre existe dans {path} ; ses secrets ne sont utilisés que si ARISTOBOT_VAULT_PASSPHRASE est définie.',
    noKeychain: 'Aucun trousseau du système n\'a répondu ({reason}) : les fonctions qui ont besoin de secrets (clés d\'API des plateformes, clés d\'IA, mot de passe d\'une base de données externe) sont donc indisponibles. Pour y remédier, installez et déverrouillez un trousseau (Trousseau d\'accès sur macOS, Gestionnaire d\'identification sous Windows, ou sous Linux un Secret Service comme GNOME Keyring ou KWallet), ou choisissez le coffre (ARISTOBOT_SECRETS_BACKEND=vault et ARISTOBOT_VAULT_PASSPHRASE).',
    noStore: 'Aucun trousseau du système n\'a répondu et ARISTOBOT_VAULT_PASSPHRASE n\'est pas définie : les fonctions qui ont besoin de secrets (clés d\'API des plateformes, clés d\'IA, mot de passe d\'une base de données externe) sont donc indisponibles. Pour y remédier, installez et déverrouillez un trousseau (Trousseau d\'accès sur macOS, Gestionnaire d\'identification sous Windows, ou sous Linux un Secret Service comme GNOME Keyring ou KWallet), ou définissez ARISTOBOT_VAULT_PASSPHRASE pour utiliser un fichier de coffre chiffré ({path}).',
    notStarted: 'Pas encore démarré.',
    noAnswer: 'aucune réponse en {ms} ms',
    probeValue: 'le trousseau n\'a pas rendu la valeur de test qui lui avait été confiée',
    probeDelete: 'le trousseau n\'a pas supprimé l\'entrée de test',
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
