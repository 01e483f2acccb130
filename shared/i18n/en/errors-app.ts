/** The core's app errors (keys `errors.app.*`, raised with AppError; the French side is fr/errors-app.ts). */
export default {
  aristobot3AlreadyRunningWith: 'Aristobot3 is already running with the data folder {dataDir} (process {pid}).',
  couldNotStart: 'The app could not start: {reason}',
  starting: 'The app is still starting.',
};
