/** The core's kernel errors (keys `errors.kernel.*`, raised with AppError; the French side is fr/errors-kernel.ts). */
export default {
  message: '{name}: {reason}{where}{during}',
  whereLine: ' (line {line})',
  whereLineColumn: ' (line {line}, column {column})',
  duringPhase: ' in {phase}',
  duringLoad: ' while loading the strategy',
  columnsMustFloat64array: 'columns.{k} must be a Float64Array',
  columnsHasValuesClose: 'columns.{k} has {col} values, close has {n}',
  strategySandboxWasDisposed: 'the strategy sandbox was disposed',
  strategyExceededMemoryLimit: 'the strategy exceeded the memory limit of {memoryMb} MB and was stopped',
  runWasCancelled: 'the run was cancelled',
  strategySandboxWasDisposed2: 'the strategy sandbox was disposed during the run',
  balanceMustNumber0: 'balance must be a number >= 0',
  cpuLimitLoading: 'the strategy exceeded the CPU limit of {timeout} ms while loading and was stopped',
  cpuLimitIn: 'the strategy exceeded the CPU limit of {timeout} ms in {phase} and was stopped',
  syntaxError: 'SyntaxError: {reason} while loading the strategy',
  syntaxErrorLine: 'SyntaxError: {reason} (line {line}) while loading the strategy',
};
