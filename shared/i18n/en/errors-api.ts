/** The core's api errors (keys `errors.api.*`, raised with AppError; the French side is fr/errors-api.ts). */
export default {
  unknownEvent: 'Unknown event: {unknown}',
  unknownMethod: 'Unknown method: {method}',
  invalidInput: 'Invalid input for {method}: {path}: {reason}',
  malformed: 'Invalid input for {method}: malformed',
  loginFirst: 'Log in to a profile first.',
  badOutput: 'Internal error in {method} (the answer did not match the contract); see the log.',
  internal: 'Internal error in {method}; see the log for details.',
  malformedMessage: 'Malformed message: expected a JSON object {"id", "method", "params"}.',
  methodNotString: 'Malformed message: "method" must be a string.',
  transportInternal: 'Internal error; see the log.',
  refusedSender: 'Refused: the call did not come from the Aristobot3 window.',
  noSession: 'No session for this window.',
};
