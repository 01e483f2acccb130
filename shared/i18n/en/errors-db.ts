/** The core's db errors (keys `errors.db.*`, raised with AppError; the French side is fr/errors-db.ts). */
export default {
  oldPostgresqlProcessPid: 'An old PostgreSQL process (pid {pid}) holds the data folder {pgDir} and does not stop.',
  bundledDatabaseExistsBut: 'The bundled database in {pgDir} exists but its owner file {secretFile} is missing.',
  bundledPostgresqlDidNot: 'The bundled PostgreSQL did not start in {pgDir}: {reason}',
  bundledDatabaseRefusedOwner: 'The bundled database in {pgDir} refused the owner password in {secretFile}.',
  bundledPostgresqlStartedBut: 'The bundled PostgreSQL in {pgDir} started but its owner password could not be renewed: {reason}',
  couldNotConnectPostgresql: 'Could not connect to PostgreSQL at {redactUrl}: {reason}',
  anotherAristobot3AlreadyUsing: 'Another Aristobot3 is already using the database {ownerUrl}; stop it first (one app per database).',
  appConnectedAsNot: 'The app is connected as {user}, not {APP_ROLE}.',
  refusingStartDatabaseRole: 'Refusing to start: the database role {APP_ROLE} could bypass tenancy (superuser={rolsuper}, bypassrls={rolbypassrls}, owns {owned} relations).',
  logProfileFirst: 'Log in to a profile first.',
  databaseUserCannotCreate: 'The database user cannot create the role {APP_ROLE} (it needs CREATEROLE): {reason}',
  migrationFileNameNot: 'Migration file name {f} is not of the form NNNN_name.sql',
  migrationsMustNumberedConsecutively: 'Migrations must be numbered consecutively from 0001; found {name} at position {i}',
  databaseHasMigrationApplied: 'The database has migration {name} applied, but this version of the app does not ship it (was the app downgraded?).',
  migrationWasChangedAfter: 'Migration {name} was changed after it was applied (checksum {checksum}… in the database, {checksum2}… on disk). Released migrations must never be edited; restore the file and add a new migration instead.',
  migrationFailed: 'Migration {name} failed: {reason}',
};
