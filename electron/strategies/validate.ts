import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { STRATEGY_API_DTS } from '../../shared/strategy-api';
import { STRATEGY_API_FILE_NAME, STRATEGY_COMPILER_OPTIONS, STRATEGY_FILE_NAME } from '../../shared/strategy-options';
import type { ParamSpec } from '../kernel/types';
import { translate, type Params } from '../../shared/i18n';

/**
 * Strategy validation: the TypeScript compiler type-checks a strategy against THE Strategy API
 * (shared/strategy-api.ts) in memory — no file system but TypeScript's own ES2022 library files,
 * read once and kept (parsed and bound) for every later check — then the rules the compiler does not
 * know: imports only from 'aristobot' (no `import()`, no `require`), a default-exported concrete
 * class extending `Strategy`, `static params` as an object literal of number specs, `static warmup`
 * a whole number. Every problem is a diagnostic with a 1-based line and column.
 */

export interface Diagnostic {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
  /** Our own rules' message by key (`coreLast.check.*`), worded in the reader's language; none on TypeScript's own messages. */
  key?: string;
  params?: Params;
  /** 1-based end of the range the problem covers (for editor markers). */
  endLine: number;
  endColumn: number;
}

export interface CheckResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** The declared `static params` (empty when none, or when malformed: see the diagnostics). */
  params: Record<string, ParamSpec>;
  /** The declared `static warmup`, or the default. */
  warmup: number;
}

export const DEFAULT_WARMUP = 200;
/** Longest strategy source accepted (characters). */
export const MAX_CODE_LENGTH = 200_000;
const ALLOWED_MODULE = 'aristobot';
const SPEC_NUMBERS = ['default', 'min', 'max', 'step'] as const;
const SPEC_STRINGS = ['label', 'description'] as const;

const USER_FILE = `/${STRATEGY_FILE_NAME}`;
const API_FILE = `/${STRATEGY_API_FILE_NAME}`;

const options: ts.CompilerOptions = {
  ...STRATEGY_COMPILER_OPTIONS,
  lib: STRATEGY_COMPILER_OPTIONS.lib.map((l) => `lib.${l}.d.ts`),
  types: [...STRATEGY_COMPILER_OPTIONS.types],
  // The library and the API declarations are trusted: checking them on every keystroke costs time.
  skipLibCheck: true,
  skipDefaultLibCheck: true,
  noLib: false,
};

const libDir = dirname(ts.getDefaultLibFilePath(options));
/** Parsed (and, after the first check, bound) library files and the API declarations, shared by every check. */
const cache = new Map<string, ts.SourceFile>();
let apiFile: ts.SourceFile | null = null;
let previous: ts.Program | undefined;

function librarySource(fileName: string): ts.SourceFile | undefined {
  const hit = cache.get(fileName);
  if (hit) return hit;
  const base = fileName.replace(/^.*[\\/]/, '');
  if (!/^lib\.[a-z0-9.]+\.d\.ts$/.test(base)) return undefined;
  let text: string;
  try {
    text = readFileSync(join(libDir, base), 'utf8');
  } catch {
    return undefined;
  }
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false);
  cache.set(fileName, sf);
  return sf;
}

function host(user: ts.SourceFile): ts.CompilerHost {
  return {
    getSourceFile: (fileName) => {
      if (fileName === USER_FILE) return user;
      if (fileName === API_FILE) return (apiFile ??= ts.createSourceFile(API_FILE, STRATEGY_API_DTS, ts.ScriptTarget.ES2022, false));
      return librarySource(fileName);
    },
    getDefaultLibFileName: () => join(libDir, 'lib.es2022.d.ts'),
    getDefaultLibLocation: () => libDir,
    writeFile: () => undefined,
    getCurrentDirectory: () => '/',
    getDirectories: () => [],
    fileExists: (f) => f === USER_FILE || f === API_FILE || librarySource(f) !== undefined,
    readFile: (f) => (f === USER_FILE ? user.text : f === API_FILE ? STRATEGY_API_DTS : librarySource(f)?.text),
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    // Only 'aristobot' exists, as the ambient module of the API file; nothing else resolves.
    resolveModuleNameLiterals: (literals) => literals.map(() => ({ resolvedModule: undefined })),
  };
}

function position(sf: ts.SourceFile, start: number, end: number): Pick<Diagnostic, 'line' | 'column' | 'endLine' | 'endColumn'> {
  const a = sf.getLineAndCharacterOfPosition(Math.max(0, Math.min(start, sf.text.length)));
  const b = sf.getLineAndCharacterOfPosition(Math.max(0, Math.min(Math.max(end, start), sf.text.length)));
  return { line: a.line + 1, column: a.character + 1, endLine: b.line + 1, endColumn: b.character + 1 };
}

/** One of our rules' messages, by key: `message` is its English. */
type Refuse = (node: ts.Node, rule: string, params?: Params) => void;
const ruleText = (rule: string, params?: Params): Pick<Diagnostic, 'message' | 'key' | 'params'> => ({ message: translate('en', `coreLast.check.${rule}`, params), key: `coreLast.check.${rule}`, params: params ?? {} });

function at(sf: ts.SourceFile, node: ts.Node, rule: string, params?: Params): Diagnostic {
  return { ...position(sf, node.getStart(sf), node.getEnd()), ...ruleText(rule, params) };
}

/** Type-check a strategy's source and apply the strategy rules. Never throws on bad code. */
export function checkStrategy(code: string): CheckResult {
  if (code.length > MAX_CODE_LENGTH) {
    return { ok: false, diagnostics: [{ line: 1, column: 1, endLine: 1, endColumn: 1, ...ruleText('tooLong', { count: code.length, limit: MAX_CODE_LENGTH }) }], params: {}, warmup: DEFAULT_WARMUP };
  }
  const user = ts.createSourceFile(USER_FILE, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const program = ts.createProgram({ rootNames: [API_FILE, USER_FILE], options, host: host(user), oldProgram: previous });
  previous = program;
  const ours: Diagnostic[] = [];
  /** Ranges our own rules already explain (the compiler's own message there is dropped). */
  const explained: [number, number][] = [];
  const refuse: Refuse = (node, rule, params) => {
    ours.push(at(user, node, rule, params));
    explained.push([node.getStart(user), node.getEnd()]);
  };

  checkImports(user, refuse);

  const compiler = [...program.getSyntacticDiagnostics(user), ...(program.getSyntacticDiagnostics(user).length ? [] : program.getSemanticDiagnostics(user)), ...program.getGlobalDiagnostics(), ...program.getOptionsDiagnostics()];
  const fromCompiler: Diagnostic[] = [];
  for (const d of compiler) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    let message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    // "Cannot find name 'process'. Do you need to install type definitions for node? …": not advice for a strategy.
    if (d.code === 2580 || d.code === 2591) message = message.replace(/\. Do you need to install type definitions.*$/s, ': strategies run in a sandbox, without Node.js.');
    if (d.file && d.file.fileName !== USER_FILE) {
      // A problem in the API declarations or the library: the app's fault, reported plainly.
      fromCompiler.push({ line: 1, column: 1, endLine: 1, endColumn: 1, message: `Strategy API declarations (${d.file.fileName}): ${message}` });
      continue;
    }
    const start = d.start ?? 0;
    const end = start + (d.length ?? 0);
    if (explained.some(([a, b]) => start >= a && end <= b)) continue;
    fromCompiler.push({ ...position(user, start, end), message });
  }

  let params: Record<string, ParamSpec> = {};
  let warmup = DEFAULT_WARMUP;
  if (!program.getSyntacticDiagnostics(user).length) {
    const cls = defaultClass(program.getTypeChecker(), user, refuse);
    if (cls) {
      const p = declaredParams(user, cls, refuse);
      if (p) params = p;
      warmup = declaredWarmup(user, cls, refuse) ?? DEFAULT_WARMUP;
    }
  }

  const diagnostics = [...fromCompiler, ...ours].sort((a, b) => a.line - b.line || a.column - b.column);
  // The same message at the same place once.
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const k = `${d.line}:${d.column}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { ok: unique.length === 0, diagnostics: unique, params, warmup };
}

/** Imports only from 'aristobot'; no dynamic `import()`, no `require`, no `import.meta`. */
function checkImports(sf: ts.SourceFile, refuse: Refuse): void {
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const spec = node.moduleSpecifier;
      if (!ts.isStringLiteral(spec) || spec.text !== ALLOWED_MODULE) {
        refuse(spec, 'onlyAristobotNot', { spec: spec.getText(sf) });
      }
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      refuse(node, 'importRequire');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      refuse(node, 'dynamicImport');
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      refuse(node, 'require');
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      refuse(node, 'importMeta');
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      const text = ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal) ? arg.literal.text : null;
      if (text !== ALLOWED_MODULE) refuse(node, 'onlyAristobot');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

function isStrategyBase(checker: ts.TypeChecker, type: ts.Type, depth = 0): boolean {
  if (depth > 20) return false;
  const sym = type.getSymbol();
  if (sym && sym.getName() === 'Strategy' && sym.declarations?.some((d) => d.getSourceFile().fileName === API_FILE)) return true;
  if (!type.isClassOrInterface()) return false;
  return (checker.getBaseTypes(type) ?? []).some((b) => isStrategyBase(checker, b, depth + 1));
}

/** The default-exported class, checked to be a concrete class extending Strategy. */
function defaultClass(checker: ts.TypeChecker, sf: ts.SourceFile, refuse: Refuse): ts.ClassLikeDeclaration | null {
  const moduleSymbol = checker.getSymbolAtLocation(sf);
  const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol).find((s) => s.escapedName === 'default') : undefined;
  const firstToken = sf.statements[0] ?? sf.endOfFileToken;
  if (!exported) {
    refuse(firstToken, 'defaultExport');
    return null;
  }
  const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decl = target.declarations?.find((d): d is ts.ClassLikeDeclaration => ts.isClassDeclaration(d) || ts.isClassExpression(d));
  const where = exported.declarations?.[0] ?? firstToken;
  if (!decl) {
    refuse(where, 'mustBeClass');
    return null;
  }
  const type = checker.getDeclaredTypeOfSymbol(target);
  const extendsStrategy = (checker.getBaseTypes(type as ts.InterfaceType) ?? []).some((b) => isStrategyBase(checker, b));
  if (!extendsStrategy) {
    refuse(decl.name ?? decl, 'mustExtend', { name: decl.name?.text ?? 'MyStrategy' });
    return null;
  }
  if (ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract) {
    refuse(decl.name ?? decl, 'notAbstract');
    return null;
  }
  return decl;
}

function staticMember(cls: ts.ClassLikeDeclaration, name: string): ts.PropertyDeclaration | undefined {
  return cls.members.find(
    (m): m is ts.PropertyDeclaration =>
      ts.isPropertyDeclaration(m) && !!m.modifiers?.some((k) => k.kind === ts.SyntaxKind.StaticKeyword) && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) && m.name.text === name,
  );
}

/** A numeric literal, possibly negative. */
function literalNumber(e: ts.Expression): number | null {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  if (ts.isNumericLiteral(e)) return Number(e.text);
  if (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken) && ts.isNumericLiteral(e.operand)) {
    const v = Number(e.operand.text);
    return e.operator === ts.SyntaxKind.MinusToken ? -v : v;
  }
  return null;
}

function literalString(e: ts.Expression): string | null {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  return null;
}

function propName(p: ts.ObjectLiteralElementLike): string | null {
  if (!p.name) return null;
  if (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isNumericLiteral(p.name)) return p.name.text;
  return null;
}

function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

/** `static params = { name: { default, min?, max?, step?, label?, description? }, … }` with literal values. */
function declaredParams(sf: ts.SourceFile, cls: ts.ClassLikeDeclaration, refuse: Refuse): Record<string, ParamSpec> | null {
  const member = staticMember(cls, 'params');
  if (!member) return {};
  if (!member.initializer) {
    refuse(member, 'paramsValue');
    return null;
  }
  const obj = unwrap(member.initializer);
  if (!ts.isObjectLiteralExpression(obj)) {
    refuse(member.initializer, 'paramsLiteral');
    return null;
  }
  const out: Record<string, ParamSpec> = {};
  let ok = true;
  for (const p of obj.properties) {
    const name = propName(p);
    if (!ts.isPropertyAssignment(p) || name === null) {
      refuse(p, 'paramForm');
      ok = false;
      continue;
    }
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) {
      refuse(p.name, 'paramName', { name });
      ok = false;
      continue;
    }
    const specNode = unwrap(p.initializer);
    if (!ts.isObjectLiteralExpression(specNode)) {
      refuse(p.initializer, 'paramLiteral', { name });
      ok = false;
      continue;
    }
    const spec: Record<string, number | string> = {};
    for (const f of specNode.properties) {
      const key = propName(f);
      if (!ts.isPropertyAssignment(f) || key === null) {
        refuse(f, 'paramField', { name });
        ok = false;
        continue;
      }
      if ((SPEC_NUMBERS as readonly string[]).includes(key)) {
        const v = literalNumber(f.initializer);
        if (v === null || !Number.isFinite(v)) {
          refuse(f.initializer, 'paramNumber', { name, field: key });
          ok = false;
          continue;
        }
        spec[key] = v;
      } else if ((SPEC_STRINGS as readonly string[]).includes(key)) {
        const v = literalString(f.initializer);
        if (v === null) {
          refuse(f.initializer, 'paramString', { name, field: key });
          ok = false;
          continue;
        }
        spec[key] = v;
      }
      // other keys: the compiler reports them against ParamSpec
    }
    const d = spec.default as number | undefined;
    const min = spec.min as number | undefined;
    const max = spec.max as number | undefined;
    const step = spec.step as number | undefined;
    if (d === undefined) {
      refuse(specNode, 'paramDefault', { name });
      ok = false;
      continue;
    }
    // code values as written (lo/hi/def/got are not formatted as quantities in French)
    const problem: [string, Params] | null =
      min !== undefined && max !== undefined && min > max
        ? ['minAboveMax', { name, lo: min, hi: max }]
        : min !== undefined && d < min
          ? ['defaultBelowMin', { name, def: d, lo: min }]
          : max !== undefined && d > max
            ? ['defaultAboveMax', { name, def: d, hi: max }]
            : step !== undefined && !(step > 0)
              ? ['stepPositive', { name, got: step }]
              : null;
    if (problem) {
      refuse(specNode, problem[0], problem[1]);
      ok = false;
      continue;
    }
    out[name] = spec as unknown as ParamSpec;
  }
  return ok ? out : null;
}

/** `static warmup = 50`: a whole number of candles, 0 or more. */
function declaredWarmup(sf: ts.SourceFile, cls: ts.ClassLikeDeclaration, refuse: Refuse): number | null {
  const member = staticMember(cls, 'warmup');
  if (!member) return null;
  const v = member.initializer ? literalNumber(member.initializer) : null;
  if (v === null || !Number.isInteger(v) || v < 0 || v > 1_000_000) {
    refuse(member.initializer ?? member, 'warmup');
    return null;
  }
  return v;
}
