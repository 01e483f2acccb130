/** The core's strategies errors (keys `errors.strategies.*`, raised with AppError; the French side is fr/errors-strategies.ts). */
export default {
  strategyCheckerStoppedApp: 'The strategy checker is stopped (the app is shutting down).',
  strategyCheckerStoppedApp2: 'The strategy checker stopped (the app is shutting down).',
  strategyCheckFailed: 'The strategy check failed: {error}',
  checkerWasRestartedCheck: '{message} The checker was restarted: check again.',
  strategyCheckerCouldNot: 'The strategy checker could not start: {reason}',
  wasStoppedAristobotStrategy: '{what} and was stopped (ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS); the checker was restarted. Try again, or simplify the code.',
  noStrategyProfile: 'No strategy {id} in this profile.',
  strategyTemplatesCannotRead: 'The strategy templates cannot be read from {templatesDir}: {reason}',
  strategyHasNoVersion: 'The strategy has no version {version}.',
  noTemplateTemplates: 'No template "{id}". Templates: {id2}.',
  strategyNamedAlreadyExists: 'A strategy named "{name}" already exists.',
  strategyNamedAlreadyExists2: 'A strategy named "{candidate}" already exists.',
  tooManyCopiesGive: 'Too many copies of "{name}": give the copy a name.',
  doesNotCompile: 'The code does not compile.',
  doesNotCompileAt: 'The code does not compile: line {line}, column {column}: {reason}',
  doesNotCompileAtMore: 'The code does not compile: line {line}, column {column}: {reason} (and {count} more problem)|The code does not compile: line {line}, column {column}: {reason} (and {count} more problems)',
};
