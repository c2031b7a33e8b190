// `npm run mutation [-- <Stryker's options>]`: runs Stryker (stryker.config.mjs), keeps the
// incremental file whole across narrower runs, and writes the summary into docs/mutation.md.
// `npm run mutation:summary` writes the summary alone, from the incremental file as it is.
// docs/mutation.md says how and why.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import * as prettier from 'prettier';
import { loadStrykerConfig, matchScope, projectFiles, projectRoot } from './mutation-scope.js';
import {
  parseReport,
  relativeTo,
  replaceSection,
  summarize,
  type MutationReport,
} from './mutation-summary.js';

const docPath = path.join(projectRoot, 'docs', 'mutation.md');
const docIntro = `# Mutation testing

How well the tests catch a change to the code they test: a tool changes the code one small way
at a time (a mutant) and runs the tests; a mutant they fail on is killed, one they pass on survived.
`;

const readReport = (file: string): MutationReport | undefined =>
  existsSync(file) ? parseReport(JSON.parse(readFileSync(file, 'utf8')), file) : undefined;

/**
 * The report of this run, with the previous report's files that this run did not mutate and that
 * are still in the scope: Stryker writes the incremental file from the run's files only, so a run
 * narrowed by `--mutate` would otherwise drop every other file's results.
 */
export const mergeReports = (
  previous: MutationReport | undefined,
  current: MutationReport,
  scope: readonly string[],
): MutationReport => {
  if (!previous) return current;
  const kept = Object.entries(previous.files).filter(
    ([file]) => !(file in current.files) && scope.includes(relativeTo(projectRoot, file)),
  );
  return {
    ...current,
    files: { ...Object.fromEntries(kept), ...current.files },
    testFiles: { ...previous.testFiles, ...current.testFiles },
  };
};

/**
 * The incremental file is committed gzipped (`<file>.gz`): Stryker keeps every mutated file's and
 * test file's source in it, and plain it passes 5 MB. Stryker reads and writes the plain file,
 * which git ignores; it is unpacked from the committed one when missing or older, and packed after
 * every run.
 */
export const packedPathOf = (file: string): string => `${file}.gz`;

export const unpackIncremental = (file: string): void => {
  const packed = packedPathOf(file);
  if (!existsSync(packed)) return;
  if (existsSync(file) && statSync(file).mtimeMs >= statSync(packed).mtimeMs) return;
  writeFileSync(file, gunzipSync(readFileSync(packed)));
};

export const packIncremental = (file: string): void => {
  writeFileSync(packedPathOf(file), gzipSync(readFileSync(file), { level: 9 }));
};

const commitOf = (): string =>
  execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim();

const writeSummary = async (report: MutationReport, scope: readonly string[], reportPath: string) => {
  const relative: MutationReport = {
    ...report,
    files: Object.fromEntries(
      Object.entries(report.files).map(([file, entry]) => [relativeTo(projectRoot, file), entry]),
    ),
  };
  const section = summarize({ report: relative, scope, date: new Date(), commit: commitOf(), reportPath });
  const formatted = await prettier.format(section, {
    ...(await prettier.resolveConfig(docPath)),
    filepath: docPath,
  });
  const document = existsSync(docPath) ? readFileSync(docPath, 'utf8') : docIntro;
  writeFileSync(docPath, replaceSection(document, formatted));
  process.stdout.write(`mutation: wrote the summary of ${reportPath} into docs/mutation.md\n`);
};

const main = async (args: readonly string[]): Promise<number> => {
  const config = await loadStrykerConfig();
  const incrementalFile = path.join(projectRoot, config.incrementalFile);
  const scope = matchScope(config.mutate, projectFiles(projectRoot, config.tempDirName));
  const summaryOnly = args[0] === '--summary-only';
  unpackIncremental(incrementalFile);
  if (!summaryOnly) {
    const previous = readReport(incrementalFile);
    const stryker = path.join(projectRoot, 'node_modules', '.bin', 'stryker');
    const run = spawnSync(stryker, ['run', ...args], { cwd: projectRoot, stdio: 'inherit' });
    if (run.status !== 0) return run.status ?? 1;
    const current = readReport(incrementalFile);
    if (!current) throw new Error(`Stryker wrote no incremental file at ${config.incrementalFile}`);
    // Written compact, as Stryker writes it: indented, the whole scope's file passes 5 MB.
    writeFileSync(incrementalFile, `${JSON.stringify(mergeReports(previous, current, scope))}\n`);
    packIncremental(incrementalFile);
  }
  const report = readReport(incrementalFile);
  if (!report) throw new Error(`no report at ${config.incrementalFile}: run \`npm run mutation\` first`);
  await writeSummary(report, scope, config.incrementalFile);
  return 0;
};

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv.slice(2));
}
