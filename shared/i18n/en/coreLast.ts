/**
 * The last sentences the core wrote in English only (i18nlast): the Telegram queue's own notes on a
 * message it could not send, the operation named inside the keychain's errors, and the desktop tray menu. Stored or sent in
 * English with their key and parameters beside them; the renderer words them with `coreText`.
 */
export default {
  telegram: {
    notSetUp: 'Telegram is not set up: enter the bot token and chat id in Account → Notifications.',
    tokenMissing: 'Telegram is not set up (or its token is missing from the secret store): enter the bot token and chat id again in Account → Notifications.',
    disconnected: 'Telegram was disconnected before this message could be delivered.',
  },
  keychain: {
    store: 'store a secret in',
    read: 'read a secret from',
    delete: 'delete a secret from',
  },
  /** The word naming what was asked, inside another message's sentence. */
  checker: {
    noStart: 'The strategy checker did not start within {seconds} s',
    tooLong: 'The strategy check took longer than {seconds} s',
    outOfMemory: 'The strategy check ran out of memory (over {memoryMb} MB) and was stopped.',
    crashed: 'The strategy check stopped unexpectedly ({reason}).',
    exited: 'The strategy check stopped unexpectedly (its worker exited with code {code}).',
  },
  field: {
    value: 'value',
    amount: 'amount',
    price: 'price',
    triggerPrice: 'trigger price',
  },
  operation: {
    placed: 'placed',
    cancelled: 'cancelled',
    modified: 'modified',
    protected: 'protected',
  },
  url: {
    exchangeBase: 'The exchange base URL',
  },
  /** The strategy check's own rules (the compiler's messages are TypeScript's, as they come). Code values stay as written. */
  check: {
    tooLong: 'The code is too long ({count} characters; at most {limit}).',
    onlyAristobotNot: "Only 'aristobot' may be imported (not {spec}): strategies run in a sandbox without modules.",
    importRequire: "`import … = require(…)` is not allowed: only the 'aristobot' module may be imported, with an ES import.",
    dynamicImport: '`import()` is not allowed: strategies run in a sandbox without modules.',
    require: '`require` is not allowed: strategies run in a sandbox without modules.',
    importMeta: '`import.meta` is not available to strategies.',
    onlyAristobot: "Only 'aristobot' may be imported.",
    defaultExport: 'A strategy must default-export its class: `export default class MyStrategy extends Strategy { … }`.',
    mustBeClass: 'The default export must be a class extending Strategy.',
    mustExtend: "The default export must extend Strategy: `export default class {name} extends Strategy { … }` (Strategy comes from the 'aristobot' module).",
    notAbstract: 'The default-exported strategy class must not be abstract: it must implement shouldLong() and shouldShort().',
    paramsValue: '`static params` needs a value: `static params = { fast: { default: 10, min: 2, max: 100, step: 1 } }`.',
    paramsLiteral: '`static params` must be an object literal, e.g. `{ fast: { default: 10, min: 2, max: 100 } }`.',
    paramForm: 'Each parameter is written `name: { default: … }` (no spreads, methods or computed names).',
    paramName: 'A parameter name must be an identifier (letters, digits, _ and $): "{name}".',
    paramLiteral: 'The parameter "{name}" must be an object literal such as `{ default: 10, min: 2, max: 100, step: 1 }`.',
    paramField: 'In the parameter "{name}": write each field as `key: value`.',
    paramNumber: 'In the parameter "{name}": `{field}` must be a number written out (e.g. 10).',
    paramString: 'In the parameter "{name}": `{field}` must be a string written out.',
    paramDefault: 'The parameter "{name}" needs a `default` value.',
    minAboveMax: 'In the parameter "{name}": min ({lo}) is above max ({hi}).',
    defaultBelowMin: 'In the parameter "{name}": default ({def}) is below min ({lo}).',
    defaultAboveMax: 'In the parameter "{name}": default ({def}) is above max ({hi}).',
    stepPositive: 'In the parameter "{name}": step must be above 0 (got {got}).',
    warmup: '`static warmup` must be a whole number of candles written out, 0 to 1000000 (e.g. `static warmup = 50`).',
    noCodeBlock: 'The answer has no ```ts code block.',
  },
  tray: {
    engine: 'Trading engine',
    live: '{count} live activation|{count} live activations',
    none: 'No live activations',
    logIn: 'Log in to see the activations',
    protection: 'Engine off: stop-loss and take-profit still executed',
    open: 'Open Aristobot3',
    quit: 'Quit',
    tooltipOn: 'Aristobot3 — engine on, {live}',
    tooltipOff: 'Aristobot3 — engine off, {live}',
  },
};
