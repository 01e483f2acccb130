import { loadConfig } from './config';
import { CoreHost } from './core';
import { DEV_PROFILE } from './profiles/debug';

/**
 * `npm run init`: prepare the data folder and database (start the bundled PostgreSQL, apply the
 * migrations) and create the development profile `dev`, then stop. Safe to run again.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const host = new CoreHost(config, 'headless');
  await host.start();
  const status = await host.status();
  if (status.state !== 'ready' || !host.services) {
    console.error(`Initialisation failed: ${status.error?.message}`);
    await host.stop();
    process.exit(1);
  }
  await host.services.profiles.ensure(DEV_PROFILE.name, DEV_PROFILE.password);
  console.log(`Data folder ${config.dataDir} is ready (database: ${status.database.mode}); profile "${DEV_PROFILE.name}" exists (password "${DEV_PROFILE.password}").`);
  await host.stop();
  process.exit(0);
}

void main();
