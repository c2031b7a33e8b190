import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const venvPython = path.join(root, '.venv-moto', 'bin', 'python');

/** Whether sqlglot is here to parse Athena's SQL (the moto venv has it: infra/aws/moto/requirements.txt). */
export const athenaParserAvailable = (): boolean => {
  if (existsSync(venvPython)) return true;
  if (process.env.CI) throw new Error(`sqlglot is required in CI: no virtualenv at ${venvPython}`);
  console.warn(
    `Skipping Athena SQL parsing: no virtualenv at ${venvPython} (run: bash infra/local/ensure-moto-venv.sh)`,
  );
  return false;
};

/**
 * Parses each statement with sqlglot's Athena dialect (Trino's, for queries), since Athena cannot
 * run here; rejects with sqlglot's message, which names the statement's line and column, when one
 * does not parse.
 */
export const parseAsAthena = async (statements: readonly string[]): Promise<void> => {
  const script = `
import json, sys, sqlglot
for sql in json.load(sys.stdin):
    sqlglot.parse_one(sql, read='athena', error_level=sqlglot.ErrorLevel.RAISE)
`;
  const child = promisify(execFile)(venvPython, ['-c', script]);
  child.child.stdin!.end(JSON.stringify(statements));
  await child;
};
