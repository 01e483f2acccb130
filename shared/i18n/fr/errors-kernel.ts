import type { Shape } from '../index';
import type en from '../en/errors-kernel';

export default {
  message: '{name} : {reason}{where}{during}',
  whereLine: ' (ligne {line})',
  whereLineColumn: ' (ligne {line}, colonne {column})',
  duringPhase: ' dans {phase}',
  duringLoad: ' au chargement de la stratégie',
  columnsMustFloat64array: 'columns.{k} doit être un Float64Array',
  columnsHasValuesClose: 'columns.{k} a {col} valeurs, close en a {n}',
  strategySandboxWasDisposed: 'le bac à sable de la stratégie a été libéré',
  strategyExceededMemoryLimit: 'la stratégie a dépassé la limite mémoire de {memoryMb} Mo et a été arrêtée',
  runWasCancelled: 'l\'exécution a été annulée',
  strategySandboxWasDisposed2: 'le bac à sable de la stratégie a été libéré pendant l\'exécution',
  balanceMustNumber0: 'le solde doit être un nombre >= 0',
  cpuLimitLoading: 'la stratégie a dépassé la limite CPU de {timeout} ms pendant son chargement et a été arrêtée',
  cpuLimitIn: 'la stratégie a dépassé la limite CPU de {timeout} ms dans {phase} et a été arrêtée',
  syntaxError: 'SyntaxError : {reason} au chargement de la stratégie',
  syntaxErrorLine: 'SyntaxError : {reason} (ligne {line}) au chargement de la stratégie',
} satisfies Shape<typeof en>;
