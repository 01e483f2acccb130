import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/app';

/** The runtime boundaries are enforced by ESLint: these files would break them, and are refused. */
const eslint = new ESLint({ cwd: ROOT });
async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: `${ROOT}/${filePath}` });
  return r!.messages.map((m) => m.ruleId ?? m.message);
}

describe('import boundaries', () => {
  it('shared/ imports no Node, Electron or Node-only package', async () => {
    expect(await ruleIds('shared/x.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toContain('no-restricted-imports');
    expect(await ruleIds('shared/x.ts', "import pg from 'pg';\nexport const x = pg;\n")).toContain('no-restricted-imports');
    expect(await ruleIds('shared/x.ts', "import { app } from 'electron';\nexport const x = app;\n")).toContain('no-restricted-imports');
    expect(await ruleIds('shared/x.ts', "import { z } from 'zod';\nexport const x = z;\n")).toEqual([]);
  });

  it('renderer/ imports no Node, Electron or electron/** (types excepted)', async () => {
    expect(await ruleIds('renderer/src/x.ts', "import { join } from 'node:path';\nexport const x = join;\n")).toContain('@typescript-eslint/no-restricted-imports');
    expect(await ruleIds('renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n")).toContain('@typescript-eslint/no-restricted-imports');
    expect(await ruleIds('renderer/src/x.ts', "import { CoreHost } from '../../electron/core';\nexport const x = CoreHost;\n")).toContain('@typescript-eslint/no-restricted-imports');
    expect(await ruleIds('renderer/src/x.ts', "import type { Session } from '../../electron/api/dispatch';\nexport type X = Session;\n")).toEqual([]);
  });

  it('only electron/main.ts and electron/preload.ts import electron', async () => {
    expect(await ruleIds('electron/core2.ts', "import { app } from 'electron';\nexport const x = app;\n")).toContain('no-restricted-imports');
    expect(await ruleIds('electron/main.ts', "import { app } from 'electron';\nexport const x = app;\n")).toEqual([]);
  });
});
