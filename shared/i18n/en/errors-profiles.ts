/** The core's profiles errors (keys `errors.profiles.*`, raised with AppError; the French side is fr/errors-profiles.ts). */
export default {
  developmentModeNotAvailable: 'Development mode is not available: start Aristobot3 with ARISTOBOT_DEBUG=1.',
  profileNamedAlreadyExists: 'A profile named "{name}" already exists.',
  noProfileNamed: 'No profile named "{name}".',
  tooManyWrongPasswords: 'Too many wrong passwords for "{name}". Try again in {wait} s.',
  tooManyWrongPasswords2: 'Too many wrong passwords for "{name}" from several connections. Try again in {globalWait} s.',
  wrongPassword: 'Wrong password',
  profileNoLongerExists: 'This profile no longer exists.',
  profileHasNoSettings: 'This profile has no settings row.',
  defaultBrokerMustOne: 'The default broker must be one of this profile’s brokers.',
};
