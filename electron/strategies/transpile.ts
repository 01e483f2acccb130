import ts from 'typescript';

/**
 * A strategy's TypeScript source as the kernel runs it: CommonJS (`require('aristobot')`,
 * `exports.default`), ES2022, no type checking here (electron/strategies/ validates before saving).
 * Done once per save, never per run.
 */
export function transpileStrategy(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      useDefineForClassFields: false,
      sourceMap: false,
      removeComments: false,
    },
    reportDiagnostics: false,
  }).outputText;
}
