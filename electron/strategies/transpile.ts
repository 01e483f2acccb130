import ts from 'typescript';

/**
 * A strategy's TypeScript source as the kernel runs it: CommonJS (`require('aristobot')`,
 * `exports.default`), ES2022, no type checking here (electron/strategies/ validates before saving).
 * Done once per save, never per run. The source map is inlined at the end of the text, so the
 * kernel reports a strategy's errors at the line and column of the TypeScript source.
 */
export function transpileStrategy(source: string): string {
  return ts.transpileModule(source, {
    fileName: 'strategy.ts',
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      useDefineForClassFields: false,
      inlineSourceMap: true,
      inlineSources: false,
      removeComments: false,
    },
    reportDiagnostics: false,
  }).outputText;
}
