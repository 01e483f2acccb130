import ts from 'typescript';
import { STRATEGY_API_DTS } from '../../shared/strategy-api';
import type { CheckResult, Diagnostic } from './prompt';

/**
 * A small real check of strategy code with the TypeScript compiler against the API declarations:
 * type errors, imports other than 'aristobot', and a default-exported class extending Strategy.
 * The assistant uses the strategies' validator when it is present (electron/core.ts injects it);
 * this one stands in for it until then.
 */
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noEmit: true,
  noImplicitOverride: false,
  noUncheckedIndexedAccess: false,
  lib: ['lib.es2022.d.ts'],
  types: [],
};
const FILE = '/strategy.ts';
const API = '/aristobot.d.ts';
const libCache = new Map<string, ts.SourceFile>();

function host(code: string): ts.CompilerHost {
  const base = ts.createCompilerHost(OPTIONS, true);
  return {
    ...base,
    getSourceFile(name, lang) {
      if (name === FILE) return ts.createSourceFile(name, code, lang, true);
      if (name === API) return ts.createSourceFile(name, STRATEGY_API_DTS, lang, true);
      let sf = libCache.get(name);
      if (!sf) {
        sf = base.getSourceFile(name, lang);
        if (sf) libCache.set(name, sf);
      }
      return sf;
    },
    fileExists: (name) => name === FILE || name === API || base.fileExists(name),
    readFile: (name) => (name === FILE ? code : name === API ? STRATEGY_API_DTS : base.readFile(name)),
    writeFile: () => undefined,
  };
}

export async function checkStrategyCode(code: string): Promise<CheckResult> {
  const program = ts.createProgram({ rootNames: [FILE, API], options: OPTIONS, host: host(code) });
  const sf = program.getSourceFile(FILE)!;
  const diagnostics: Diagnostic[] = [];
  const at = (pos: number, message: string) => {
    const lc = sf.getLineAndCharacterOfPosition(pos);
    diagnostics.push({ line: lc.line + 1, column: lc.character + 1, message });
  };
  for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
    at(d.start ?? 0, ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  let exported = false;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier) && st.moduleSpecifier.text !== 'aristobot') {
      at(st.getStart(sf), `Only 'aristobot' may be imported (not '${st.moduleSpecifier.text}').`);
    }
    if (ts.isClassDeclaration(st) && st.modifiers?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) {
      exported = !!st.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword && h.types.some((t) => t.expression.getText(sf) === 'Strategy'));
    }
  }
  if (!exported) at(0, 'The module must default-export a class extending Strategy: export default class MyStrategy extends Strategy { … }');
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: diagnostics.length === 0, diagnostics };
}
