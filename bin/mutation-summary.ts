// Turns Stryker's report (the mutation-testing-report-schema JSON that stryker.config.mjs's
// incremental file holds) into the summary docs/mutation.md keeps between its stryker markers.
import path from 'node:path';
import * as z from 'zod';
import { parseOrThrow } from '../shared/parse.js';

export const beginMarker = '<!-- stryker:begin -->';
export const endMarker = '<!-- stryker:end -->';

const statuses = [
  'Killed',
  'Survived',
  'NoCoverage',
  'Timeout',
  'CompileError',
  'RuntimeError',
  'Ignored',
  'Pending',
] as const;
type MutantStatus = (typeof statuses)[number];

const position = z.object({ line: z.number().int(), column: z.number().int() });
const mutantSchema = z
  .object({
    mutatorName: z.string(),
    replacement: z.string().optional(),
    status: z.enum(statuses),
    statusReason: z.string().optional(),
    location: z.object({ start: position, end: position }),
  })
  .loose();
export const reportSchema = z
  .object({
    files: z.record(z.string(), z.object({ mutants: z.array(mutantSchema) }).loose()),
    testFiles: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type MutationReport = z.infer<typeof reportSchema>;
type Mutant = z.infer<typeof mutantSchema>;

/** A report's file names are absolute in some Stryker versions, relative in others: relative, with `/`. */
export const relativeTo = (root: string, file: string): string =>
  (path.isAbsolute(file) ? path.relative(root, file) : file).split(path.sep).join('/');

export const parseReport = (value: unknown, where: string): MutationReport =>
  parseOrThrow(reportSchema, value, where);

/** Counts of one group of mutants, and its scores as Stryker reckons them. */
export interface Tally {
  readonly files: number;
  readonly counts: Readonly<Record<MutantStatus, number>>;
  /** (killed + timed out) / (killed + timed out + survived + no coverage), in percent; undefined with no valid mutant. */
  readonly score: number | undefined;
  /** The same, over the mutants a test reached (no-coverage ones left out). */
  readonly coveredScore: number | undefined;
  /** Of the ignored mutants, the static ones Stryker did not run (`ignoreStatic`); the rest are marked equivalent. */
  readonly staticNotRun: number;
}

/** Stryker's reason for a static mutant it did not run (`ignoreStatic` in stryker.config.mjs). */
const staticReason = 'Static mutant (and "ignoreStatic" was enabled)';
const isStatic = (mutant: Mutant): boolean =>
  mutant.status === 'Ignored' && mutant.statusReason === staticReason;

export const tally = (files: ReadonlyArray<readonly Mutant[]>): Tally => {
  const counts = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<MutantStatus, number>;
  for (const mutant of files.flat()) counts[mutant.status] += 1;
  const detected = counts.Killed + counts.Timeout;
  const covered = detected + counts.Survived;
  const valid = covered + counts.NoCoverage;
  return {
    files: files.length,
    counts,
    staticNotRun: files.flat().filter(isStatic).length,
    score: valid === 0 ? undefined : (100 * detected) / valid,
    coveredScore: covered === 0 ? undefined : (100 * detected) / covered,
  };
};

/** The targets (issue 17): a group, which files belong to it, the score it must reach. */
export const targets: ReadonlyArray<{ name: string; includes: (file: string) => boolean; atLeast: number }> =
  [
    { name: "services' cores (`services/`)", includes: (file) => file.startsWith('services/'), atLeast: 80 },
    { name: '`shared/lake`', includes: (file) => file.startsWith('shared/lake/'), atLeast: 80 },
    { name: 'overall', includes: () => true, atLeast: 70 },
  ];

export interface SummaryInput {
  /** The report, its file names relative to the project's root. */
  readonly report: MutationReport;
  /** Every file of the configured scope (stryker.config.mjs's mutate patterns). */
  readonly scope: readonly string[];
  /** When the summary is written, and the commit of the tree it measured. */
  readonly date: Date;
  readonly commit: string;
  /** Where the report was read from, as the summary names it. */
  readonly reportPath: string;
}

const percent = (value: number | undefined): string => (value === undefined ? 'n/a' : `${value.toFixed(1)}%`);

const tallyRow = (name: string, t: Tally, target?: number): string => {
  const { Killed, Timeout, Survived, NoCoverage, CompileError, RuntimeError, Ignored } = t.counts;
  const verdict =
    target === undefined
      ? ''
      : t.score !== undefined && t.score >= target
        ? `≥ ${target}%: met`
        : `≥ ${target}%: missed`;
  return `| ${name} | ${t.files} | ${Killed} | ${Timeout} | ${Survived} | ${NoCoverage} | ${CompileError + RuntimeError} | ${Ignored - t.staticNotRun} | ${t.staticNotRun} | ${percent(t.score)} | ${percent(t.coveredScore)} | ${verdict} |`;
};

/** A replacement as one short line of a table cell: whitespace collapsed, cut at 80 characters. */
export const cell = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  const short = line.length > 80 ? `${line.slice(0, 79)}…` : line;
  const fence = short.includes('`') ? '``' : '`';
  return `${fence} ${short.replace(/\|/g, '\\|')} ${fence}`;
};

/** Text for a table cell, whole: on one line, its pipes escaped. */
const prose = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');

const scopeLines = (measured: readonly string[], scope: readonly string[]): string[] => {
  const inScope = measured.filter((file) => scope.includes(file));
  if (inScope.length === scope.length)
    return [`The whole scope: all ${scope.length} files of \`stryker.config.mjs\`.`];
  return [
    `**A slice, not the whole scope:** the report holds ${inScope.length} of the scope's ${scope.length} files; the figures below are these files' alone. Not measured:`,
    '',
    ...scope.filter((file) => !inScope.includes(file)).map((file) => `- \`${file}\``),
  ];
};

const folderTable = (files: ReadonlyMap<string, readonly Mutant[]>): string[] => {
  const folders = new Map<string, Mutant[][]>();
  for (const [file, mutants] of files) {
    const folder = path.posix.dirname(file);
    folders.set(folder, [...(folders.get(folder) ?? []), [...mutants]]);
  }
  const pick = (includes: (file: string) => boolean) =>
    [...files].filter(([file]) => includes(file)).map(([, mutants]) => mutants);
  return [
    '| folder | files | killed | timed out | survived | no coverage | errors | equivalent | static, not run | score | score of covered | target |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |',
    ...[...folders]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([folder, list]) => tallyRow(`\`${folder}\``, tally(list))),
    ...targets
      .filter((target) => [...files.keys()].some(target.includes))
      .map((target) => tallyRow(`**${target.name}**`, tally(pick(target.includes)), target.atLeast)),
  ];
};

const survivorLines = (files: ReadonlyMap<string, readonly Mutant[]>): string[] => {
  const lines: string[] = [];
  for (const [file, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const left = mutants
      .filter((mutant) => mutant.status === 'Survived' || mutant.status === 'NoCoverage')
      .sort(
        (a, b) =>
          a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column,
      );
    if (left.length === 0) continue;
    lines.push(
      `##### \`${file}\` (${left.length})`,
      '',
      '| where | status | mutator | replacement |',
      '| --- | --- | --- | --- |',
    );
    for (const mutant of left) {
      const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
      lines.push(
        `| ${where} | ${mutant.status} | ${mutant.mutatorName} | ${cell(mutant.replacement ?? '')} |`,
      );
    }
    lines.push('');
  }
  return lines.length === 0 ? ['None.', ''] : lines;
};

/**
 * The mutants a `// Stryker disable` comment in the code leaves out, with the comment's reason:
 * equivalent mutants (no input the code can get behaves differently), each said why where it is.
 */
const ignoredLines = (files: ReadonlyMap<string, readonly Mutant[]>): string[] => {
  const rows = [...files]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([file, mutants]) =>
      mutants
        .filter((mutant) => mutant.status === 'Ignored' && !isStatic(mutant))
        .sort((a, b) => a.location.start.line - b.location.start.line)
        .map(
          (mutant) =>
            `| ${file}:${mutant.location.start.line}:${mutant.location.start.column} | ${mutant.mutatorName} | ${prose(mutant.statusReason ?? '')} |`,
        ),
    );
  if (rows.length === 0) return ['None.', ''];
  return ['| where | mutator | why it is equivalent |', '| --- | --- | --- |', ...rows, ''];
};

/** The summary's Markdown, without the markers. */
export const summarize = ({ report, scope, date, commit, reportPath }: SummaryInput): string => {
  const files = new Map(Object.entries(report.files).map(([file, entry]) => [file, entry.mutants]));
  const measured = [...files.keys()].sort();
  return [
    '### Last measured',
    '',
    `Written by \`npm run mutation\` (\`bin/mutation-summary.ts\`) on ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC, at commit \`${commit}\`, from \`${reportPath}\`.`,
    '',
    ...scopeLines(measured, scope),
    '',
    '#### Score per folder',
    '',
    ...folderTable(files),
    '',
    '#### Surviving mutants by file',
    '',
    'Survived: a test ran the mutant and passed. NoCoverage: no test of the mutation run reaches it.',
    '',
    ...survivorLines(files),
    '#### Equivalent mutants, left out by a comment in the code',
    '',
    "Not counted in the score. Each is marked where it is, `// Stryker disable next-line <mutator>: <reason>`, and the reason is Stryker's own record of it.",
    '',
    ...ignoredLines(files),
  ].join('\n');
};

/** The document with its stryker section replaced (or added at its end), every other line kept. */
export const replaceSection = (document: string, section: string): string => {
  const block = `${beginMarker}\n\n${section.trim()}\n\n${endMarker}`;
  const begin = document.indexOf(beginMarker);
  const end = document.indexOf(endMarker);
  if (begin === -1 && end === -1) return `${document.trimEnd()}\n\n${block}\n`;
  if (begin === -1 || end < begin)
    throw new Error(`docs/mutation.md: the markers ${beginMarker} … ${endMarker} are broken`);
  return `${document.slice(0, begin)}${block}${document.slice(end + endMarker.length)}`;
};
