import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { translate, type Params } from '../../shared/i18n';
import { wordError, wordField } from '../../shared/i18n/wording';
import { parseCandleCsv, type CsvProblem } from './csv';

const refusal = (csv: string): AppError => {
  try {
    parseCandleCsv(csv);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('the CSV was accepted');
};

describe('CSV refusals carry keys, so the import says what is wrong in French', () => {
  it('an empty file, missing columns, no rows: one keyed issue on the csv field', () => {
    const cases: [string, string, RegExp][] = [
      ['\n\n', 'errors.backtest.csvFileEmpty', /^Le fichier CSV est vide\.$/],
      ['a,b,c\n1,2,3\n', 'errors.backtest.lineExpectedColumnsDate', /^Ligne 1 : colonnes attendues .*« a,b,c »/],
      ['Date,Open,High,Low,Close,Volume\n', 'errors.backtest.csvHasNoCandles', /^Le CSV ne contient aucune bougie\.$/],
    ];
    for (const [csv, key, french] of cases) {
      const e = refusal(csv);
      expect(e.code).toBe('invalid_input');
      expect(e.key).toBe(key);
      expect(e.details).toEqual({ issues: [{ path: 'csv', key, params: e.params, message: e.message }] });
      expect(wordField('fr', e, 'csv')).toMatch(french);
    }
  });

  it('bad rows: each with its line, key and params; the message lists the first three, in French too', () => {
    const csv = ['Date,Open,High,Low,Close,Volume', '2020-01-01,1,2,0.5,1.5,10', '2020-01-02,1,x,0.5,1.5,10', '2020-01-03,1,2,0.5', '2020-13-45,1,2,0.5,1.5,1', '2020-01-05,-1,2,0.5,1.5,1', '2020-01-06,1,2,0.5,1.5,-1', '2020-01-07,1,1.2,0.5,1.5,1', '2020-01-01,1,2,0.5,1.5,1'].join('\n');
    const e = refusal(csv);
    const lines = (e.details as { lines: CsvProblem[] }).lines;
    expect(lines.map((l) => [l.line, l.key])).toEqual([
      [3, 'coreRest.csv.number'],
      [4, 'coreRest.csv.fields'],
      [5, 'coreRest.csv.time'],
      [6, 'coreRest.csv.positive'],
      [7, 'coreRest.csv.volume'],
      [8, 'coreRest.csv.inconsistent'],
      [9, 'coreRest.csv.duplicate'],
    ]);
    // the English message of each row is its key's English wording (scripts read it)
    for (const l of lines) expect(l.message).toBe(translate('en', l.key, l.params));
    expect(lines[0]!.message).toBe('high "x" is not a number');
    expect(lines[6]!.message).toBe('the time 2020-01-01T00:00:00.000Z is already on line 2');
    expect(e.message).toBe('The CSV has bad rows; nothing was imported. Line 3: high "x" is not a number. 4: expected 6 fields, found 4. 5: "2020-13-45" is not an ISO date/time or epoch milliseconds.');
    expect(wordError('fr', e)).toBe("Le CSV contient des lignes incorrectes ; rien n'a été importé. Ligne 3 : high « x » n'est pas un nombre. 4 : 6 champs attendus, 4 trouvés. 5 : « 2020-13-45 » n'est ni une date/heure ISO ni un horodatage epoch en millisecondes.");
    const issues = (e.details as { issues: { path: string; key: string; params: Params }[] }).issues;
    expect(wordField('fr', e, 'csv:9')).toBe("l'heure 2020-01-01T00:00:00.000Z figure déjà à la ligne 2");
    expect(wordField('fr', e, 'csv:8')).toBe("bougie incohérente : high 1,2 / low 0,5 n'encadrent pas open 1 et close 1,5");
    expect(issues).toHaveLength(7);
  });

  it('one bad row alone is listed alone', () => {
    const e = refusal('Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-01-02,0,2,0.5,1.5\n');
    expect(e.message).toBe('The CSV has bad rows; nothing was imported. Line 3: prices must be positive.');
    expect(wordError('fr', e)).toBe("Le CSV contient des lignes incorrectes ; rien n'a été importé. Ligne 3 : les prix doivent être positifs.");
  });
});
