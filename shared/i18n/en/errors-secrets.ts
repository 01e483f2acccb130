/** The core's secrets errors (keys `errors.secrets.*`, raised with AppError; the French side is fr/errors-secrets.ts). */
export default {
  vaultCouldNotOpened: 'The vault {vaultPath} could not be opened: {reason}',
  aristobotSecretsBackendMust: 'ARISTOBOT_SECRETS_BACKEND must be one of {SECRETS_MODES} (got "{raw}").',
  keychainServiceNameMust: 'The keychain service name must not be empty',
  secretValueMustString: 'A secret value must be a string',
  osKeychainDidNot: 'The OS keychain did not answer within {timeoutMs} ms when asked to {what} it; it may be locked and waiting for a password prompt. Unlock it and try again.',
  osKeychainRefusedCheck: 'The OS keychain refused to {what} it: {reason}. Check that a keychain is installed and unlocked.',
  secretReferenceMustNon: 'A secret reference must be a non-empty printable string of at most 256 characters',
  vaultKeyFileCannot: 'The vault key file {path} cannot be read ({reason}). Restore it from a backup; without it the vault cannot be opened.',
  vaultKeyFileDamaged: 'The vault key file {path} is damaged or not an Aristobot3 vault key file. Restore it from a backup; without it the vault cannot be opened.',
  vaultPassphraseEmptySet: 'The vault passphrase is empty. Set ARISTOBOT_VAULT_PASSPHRASE to a non-empty passphrase.',
  thereNoVault: 'There is no vault at {path}.',
  vaultKeyFileMissing: 'The vault key file {keyPath} is missing, so the vault {path} cannot be opened. Restore the key file from a backup (it holds the salt, not the key).',
  vaultPassphraseWrongDoes: 'The vault passphrase is wrong: it does not unlock {path}. Check ARISTOBOT_VAULT_PASSPHRASE; nothing was changed.',
  vaultCannotOpenedAlthough: 'The vault {path} cannot be opened although the passphrase matches its key file: the vault file is damaged or was replaced ({reason}). Restore it from a backup.',
  secretsVaultClosed: 'The secrets vault is closed.',
  unavailable: '{reason}',
};
