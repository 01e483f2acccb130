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
  secrets: {
    vaultUsed: 'Secrets are kept in the encrypted vault {path}.',
    vaultUsedExisting: 'Secrets are kept in the encrypted vault {path} (it exists and ARISTOBOT_VAULT_PASSPHRASE is set).',
    vaultUsedNoKeychain: 'Secrets are kept in the encrypted vault {path} (no OS keychain answered).',
    vaultFailed: '{error} Until then, features that need secrets (exchange API keys, AI keys, an external database password) are unavailable.',
    vaultNoPassphrase: 'The vault was chosen (ARISTOBOT_SECRETS_BACKEND=vault) but ARISTOBOT_VAULT_PASSPHRASE is not set, so features that need secrets (exchange API keys, AI keys, an external database password) are unavailable. To fix it, set ARISTOBOT_VAULT_PASSPHRASE to use an encrypted vault file ({path}).',
    keychainUsed: 'Secrets are kept in the OS keychain (service "{service}").',
    keychainUsedPassphraseSet: 'Secrets are kept in the OS keychain (service "{service}"). ARISTOBOT_VAULT_PASSPHRASE is set but not needed; set ARISTOBOT_SECRETS_BACKEND=vault to use the vault file instead.',
    keychainUsedVaultIgnored: 'Secrets are kept in the OS keychain (service "{service}"). A vault file exists at {path}; its secrets are not used unless ARISTOBOT_VAULT_PASSPHRASE is set.',
    noKeychain: 'No OS keychain answered ({reason}), so features that need secrets (exchange API keys, AI keys, an external database password) are unavailable. To fix it, install and unlock an OS keychain (macOS Keychain, Windows Credential Manager, or on Linux a Secret Service such as GNOME Keyring or KWallet), or choose the vault (ARISTOBOT_SECRETS_BACKEND=vault and ARISTOBOT_VAULT_PASSPHRASE).',
    noStore: 'No OS keychain answered and ARISTOBOT_VAULT_PASSPHRASE is not set, so features that need secrets (exchange API keys, AI keys, an external database password) are unavailable. To fix it, install and unlock an OS keychain (macOS Keychain, Windows Credential Manager, or on Linux a Secret Service such as GNOME Keyring or KWallet), or set ARISTOBOT_VAULT_PASSPHRASE to use an encrypted vault file ({path}).',
    notStarted: 'Not started.',
    noAnswer: 'no answer within {ms} ms',
    probeValue: 'the keychain did not return the probe value it was given',
    probeDelete: 'the keychain did not delete the probe entry',
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
