import type { Shape } from '../index';
import type en from '../en/errors-secrets';

export default {
  vaultCouldNotOpened: 'Le coffre {vaultPath} n\'a pas pu être ouvert : {reason}',
  aristobotSecretsBackendMust: 'ARISTOBOT_SECRETS_BACKEND doit valoir {SECRETS_MODES} (reçu « {raw} »).',
  keychainServiceNameMust: 'Le nom de service du trousseau ne doit pas être vide',
  secretValueMustString: 'Une valeur secrète doit être une chaîne',
  osKeychainDidNot: 'Le trousseau du système n\'a pas répondu dans les {timeoutMs} ms quand il a fallu y {what} ; il est peut-être verrouillé et attend un mot de passe. Déverrouillez-le et réessayez.',
  osKeychainRefusedCheck: 'Le trousseau du système a refusé d\'y {what} : {reason}. Vérifiez qu\'un trousseau est installé et déverrouillé.',
  secretReferenceMustNon: 'Une référence de secret doit être une chaîne imprimable non vide de 256 caractères au plus',
  vaultKeyFileCannot: 'Le fichier de clé du coffre {path} est illisible ({reason}). Restaurez-le depuis une sauvegarde ; sans lui, le coffre ne peut pas être ouvert.',
  vaultKeyFileDamaged: 'Le fichier de clé du coffre {path} est endommagé ou n\'est pas un fichier de clé de coffre Aristobot3. Restaurez-le depuis une sauvegarde ; sans lui, le coffre ne peut pas être ouvert.',
  vaultPassphraseEmptySet: 'La phrase secrète du coffre est vide. Donnez à ARISTOBOT_VAULT_PASSPHRASE une phrase secrète non vide.',
  thereNoVault: 'Il n\'y a pas de coffre à l\'emplacement {path}.',
  vaultKeyFileMissing: 'Le fichier de clé du coffre {keyPath} est absent : le coffre {path} ne peut pas être ouvert. Restaurez le fichier de clé depuis une sauvegarde (il contient le sel, pas la clé).',
  vaultPassphraseWrongDoes: 'La phrase secrète du coffre est fausse : elle n\'ouvre pas {path}. Vérifiez ARISTOBOT_VAULT_PASSPHRASE ; rien n\'a été modifié.',
  vaultCannotOpenedAlthough: 'Le coffre {path} ne peut pas être ouvert bien que la phrase secrète corresponde à son fichier de clé : le fichier du coffre est endommagé ou a été remplacé ({reason}). Restaurez-le depuis une sauvegarde.',
  secretsVaultClosed: 'Le coffre des secrets est fermé.',
  unavailable: '{reason}',
} satisfies Shape<typeof en>;
