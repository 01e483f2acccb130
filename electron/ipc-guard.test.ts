import { describe, expect, it } from 'vitest';
import { isOurPage } from './ipc-guard';

describe('IPC sender check', () => {
  it('accepts only our built page (any hash route)', () => {
    expect(isOurPage('file:///opt/Aristobot3/resources/app.asar/out/renderer/index.html#/account')).toBe(true);
    expect(isOurPage('file:///tmp/evil/index.html')).toBe(false);
    expect(isOurPage('https://example.com/out/renderer/index.html')).toBe(false);
    expect(isOurPage('data:text/html,<script>1</script>')).toBe(false);
    expect(isOurPage('not a url')).toBe(false);
  });
  it('in development accepts only the dev server origin', () => {
    const devServerUrl = 'http://localhost:5173';
    expect(isOurPage('http://localhost:5173/#/account', { devServerUrl })).toBe(true);
    expect(isOurPage('http://localhost:5174/', { devServerUrl })).toBe(false);
    expect(isOurPage('file:///x/out/renderer/index.html', { devServerUrl })).toBe(false);
  });
});
