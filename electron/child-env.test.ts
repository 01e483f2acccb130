import { describe, expect, it } from 'vitest';
import { childEnv } from './child-env';

describe('childEnv', () => {
  it('keeps only the variables a program needs, never the app settings', () => {
    const env = childEnv({ LC_MESSAGES: 'C' }, { PATH: '/usr/bin', LANG: 'en_US.UTF-8', ARISTOBOT_TOKEN: 't', ARISTOBOT_DATABASE_URL: 'postgres://u:p@h/d', ARISTOBOT_VAULT_PASSPHRASE: 'v', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'x' });
    expect(env).toEqual({ PATH: '/usr/bin', LANG: 'en_US.UTF-8', LC_MESSAGES: 'C' });
  });
});
