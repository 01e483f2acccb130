/**
 * The environment handed to child processes (the bundled PostgreSQL): only what a program needs to
 * run (search path, locale, time zone, temp folder, the Windows system folders), never the app's
 * own settings. `ARISTOBOT_TOKEN`, `ARISTOBOT_DATABASE_URL`, `ARISTOBOT_VAULT_PASSPHRASE` and any
 * other variable of the parent stay out of `/proc/<pid>/environ` of the children.
 */
const PASSED = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_COLLATE', 'TZ', 'TMPDIR', 'TEMP', 'TMP', 'SYSTEMROOT', 'SystemRoot', 'WINDIR', 'windir', 'COMSPEC', 'PATHEXT'];

export function childEnv(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSED) {
    const v = from[k];
    if (v !== undefined && v !== '' && !k.startsWith('ARISTOBOT_')) env[k] = v;
  }
  return { ...env, ...extra };
}
