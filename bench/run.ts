import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { logger } from '../shared/logger.js';
import {
  dbtPhaseBudgetMs,
  historyCostRatioBudget,
  lambdaInitBudgetMs,
  lambdaZipBudgetBytes,
  processStartBudgetMs,
  reportRenderBudgetMs,
  reportSizeBudgetBytes,
  requestsOverMinimumBudget,
  warmDayBudgetMs,
  yearBackfillBudgetMs,
  yearBackfillRssBudgetBytes,
} from './budgets.js';
import { measureHistory, measureHistoryApart, type HistoryFigures } from './history.js';
import { measureLambdaBundles } from './lambda-bundles.js';
import { median, timeCommand } from './measure.js';
import { seconds, table, withPipeline } from './pipeline.js';
import { requestCounts } from './requests.js';
import { judge, type Figure } from './verdicts.js';

/**
 * `npm run bench`: every performance figure of docs/benchmark.md, measured on the embedded default
 * on this machine, each against its budget (bench/budgets.ts). Timings are medians of several runs,
 * each figure says how many. It prints one table and writes the same figures to bench/results.json,
 * with the commit they were measured at. `--quick` takes fewer runs (a look, not a measure).
 */
const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);

// As on the command line: the pipeline's own logs are for warnings and errors, unless asked for.
if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');

const historyArgument = argv.indexOf('--history');
if (historyArgument >= 0) {
  // A child of the bench (measureHistoryApart): one history, its figures as one JSON line.
  const reportRuns = argv.indexOf('--report-runs');
  const figures = await measureHistory(
    Number(argv[historyArgument + 1]),
    reportRuns >= 0 ? Number(argv[reportRuns + 1]) : 0,
  );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}

const quick = argv.includes('--quick');
const runs = quick
  ? { start: 3, warmDays: 2, year: 1, month: 1, init: 5, report: 2 }
  : { start: 10, warmDays: 5, year: 3, month: 3, init: 20, report: 5 };

const figures: Figure[] = [];
const show = (value: number, unit: Figure['unit']): string =>
  unit === 'ms'
    ? `${seconds(value)} s`
    : unit === 'bytes'
      ? value >= 1024 * 1024
        ? `${(value / 1024 / 1024).toFixed(0)} MiB`
        : `${(value / 1000).toFixed(1)} KB`
      : unit === 'ratio'
        ? value.toFixed(2)
        : String(value);
const section = (title: string) => console.log(`\n${title}\n`);

console.log(
  `chartflow bench: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}${quick ? ', --quick' : ''}`,
);

// 1. Process start: a new `chartflow --help`, the compiled CLI.
const starts = await timeCommand(
  process.execPath,
  [path.join(root, 'bin', 'chartflow.js'), '--help'],
  runs.start,
);
figures.push({
  figure: 'process start (chartflow --help)',
  value: median(starts),
  unit: 'ms',
  budget: processStartBudgetMs,
  runs: runs.start,
});

// 2. A warm day: the days after a first one, each end to end.
section(
  `A sandbox day of the global chart (200 entries), end to end: a first day, then ${runs.warmDays} warm days; seconds`,
);
const dayRows = [['day', 'status', 'total', 'extract', 'enrich', 'load', 'checks', 'dbt', 'requests']];
const warm = await withPipeline({}, async (pipeline) => {
  const totals: number[] = [];
  const dbt: number[] = [];
  for (let i = 0; i <= runs.warmDays; i += 1) {
    const chartDate = `2026-10-${String(i + 1).padStart(2, '0')}`;
    const started = performance.now();
    const s = await pipeline.run({ chartId: 'global', chartDate });
    const total = performance.now() - started;
    const t = s.timingsMs;
    if (i > 0) {
      totals.push(total);
      dbt.push(t.dbt);
    }
    dayRows.push([
      `${chartDate}${i === 0 ? ' (first)' : ''}`,
      s.status,
      ...[total, t.extract, t.enrich, t.load, t.checks, t.dbt].map(seconds),
      Object.entries(s.requests)
        .map(([p, n]) => `${p} ${n}`)
        .join(', '),
    ]);
  }
  return { totals, dbt };
});
console.log(table(dayRows));
figures.push({
  figure: 'warm day, end to end',
  value: median(warm.totals),
  unit: 'ms',
  budget: warmDayBudgetMs,
  runs: runs.warmDays,
});
figures.push({
  figure: 'warm day, dbt phase',
  value: median(warm.dbt),
  unit: 'ms',
  budget: dbtPhaseBudgetMs,
  runs: runs.warmDays,
});

// 2b. The same, as a user runs it: each warm day a new `chartflow run` process, dbt's start included.
const cliHome = await mkdtemp(path.join(os.tmpdir(), 'chartflow-bench-cli-'));
const cliDays: number[] = [];
try {
  const chartflowRun = async (day: number): Promise<number> => {
    const started = performance.now();
    await run(
      process.execPath,
      [
        path.join(root, 'bin', 'chartflow.js'),
        'run',
        '--chart',
        'global',
        '--date',
        `2026-11-${String(day).padStart(2, '0')}`,
      ],
      { env: { ...process.env, CHARTFLOW_HOME: cliHome }, maxBuffer: 16 * 1024 * 1024 },
    );
    return performance.now() - started;
  };
  await chartflowRun(1);
  for (let i = 0; i < runs.warmDays; i += 1) cliDays.push(await chartflowRun(i + 2));
} finally {
  await rm(cliHome, { recursive: true, force: true });
}
section(`The same warm days, each a new \`chartflow run\` process (dbt's start included); seconds`);
console.log(cliDays.map(seconds).join('  '));
figures.push({
  figure: 'warm day, a new chartflow run process',
  value: median(cliDays),
  unit: 'ms',
  budget: warmDayBudgetMs,
  runs: runs.warmDays,
});

// 3. History: a year's backfill (time, memory), and a new day's transform on a year against a month.
const histories = async (days: number, times: number, reportRuns = 0): Promise<HistoryFigures[]> => {
  const all: HistoryFigures[] = [];
  // The report of the history is measured after the first backfill only: one warehouse is enough.
  for (let i = 0; i < times; i += 1) all.push(await measureHistoryApart(days, i === 0 ? reportRuns : 0));
  return all;
};
const year = await histories(365, runs.year, runs.report);
const month = await histories(30, runs.month);
section(
  `A one-year backfill in one batch (365 days × 200 entries, rate limits lifted), the median of ${runs.year}; seconds`,
);
const medianYear = year.toSorted((a, b) => a.backfillMs - b.backfillMs)[Math.floor(year.length / 2)]!;
console.log(medianYear.report);
figures.push({
  figure: 'one-year backfill',
  value: median(year.map((y) => y.backfillMs)),
  unit: 'ms',
  budget: yearBackfillBudgetMs,
  runs: runs.year,
});
figures.push({
  figure: 'one-year backfill, peak RSS',
  value: Math.max(...year.map((y) => y.peakRssBytes)),
  unit: 'bytes',
  budget: yearBackfillRssBudgetBytes,
  runs: runs.year,
});
const yearDbt = median(year.flatMap((y) => y.newDayDbtMs));
const monthDbt = median(month.flatMap((m) => m.newDayDbtMs));
section("A new day's dbt phase on top of history (3 new days after each backfill)");
console.log(
  table([
    ['history', 'dbt phase, median', 'new days timed'],
    ['30 days', `${seconds(monthDbt)} s`, String(month.length * 3)],
    ['365 days', `${seconds(yearDbt)} s`, String(year.length * 3)],
  ]),
);
figures.push({
  figure: 'new day on 365 days / on 30 days (dbt)',
  value: yearDbt / monthDbt,
  unit: 'ratio',
  budget: historyCostRatioBudget,
  runs: year.length * 3 + month.length * 3,
});

// 3b. The report of that year: a new `chartflow report` process, its file, and Chromium drawing it.
const yearReport = year[0]!;
section(
  `The report of the one-year warehouse (365 days): ${runs.report} new \`chartflow report\` processes; Chromium drawing it`,
);
console.log(
  table([
    ['figure', 'value'],
    ['chartflow report, each run, s', yearReport.reportMs!.map(seconds).join('  ')],
    ['its file', `${((yearReport.reportBytes ?? 0) / 1024).toFixed(0)} KiB`],
    [
      'drawn in Chromium, median, s',
      yearReport.reportDrawMs === undefined
        ? 'not measured: no Chromium here'
        : seconds(yearReport.reportDrawMs),
    ],
  ]),
);
figures.push({
  figure: 'one-year report, a new chartflow report process',
  value: median(yearReport.reportMs!),
  unit: 'ms',
  budget: reportRenderBudgetMs,
  runs: runs.report,
});
figures.push({
  figure: 'one-year report, its file',
  value: yearReport.reportBytes!,
  unit: 'bytes',
  budget: reportSizeBudgetBytes,
  runs: 1,
});
if (yearReport.reportDrawMs !== undefined) {
  figures.push({
    figure: 'one-year report, drawn in Chromium',
    value: yearReport.reportDrawMs,
    unit: 'ms',
    budget: reportRenderBudgetMs,
    runs: runs.report,
  });
}

// 4. The Lambda packages.
const bundles = await measureLambdaBundles(runs.init);
for (const b of bundles) {
  figures.push({
    figure: `lambda ${b.name}, zip`,
    value: b.zipBytes,
    unit: 'bytes',
    budget: lambdaZipBudgetBytes,
    runs: 1,
  });
  figures.push({
    figure: `lambda ${b.name}, init on Node 22`,
    value: b.initMs,
    unit: 'ms',
    budget: lambdaInitBudgetMs,
    runs: b.runs,
  });
}

// 5. Provider requests per kind of user.
section('HTTP requests per chart day (200 entries), per provider, beside the fewest possible');
const requests = await requestCounts();
console.log(requests.text);
for (const c of requests.counts) {
  figures.push({
    figure: `requests: ${c.user}, ${c.day.split(' ')[0]} day, ${c.provider} (min ${c.minimum})`,
    value: c.requests,
    unit: 'requests',
    budget: c.minimum + requestsOverMinimumBudget,
    runs: 1,
  });
}

// The table, and bench/results.json.
const git = async (...args: string[]) => (await run('git', args, { cwd: root })).stdout.trim();
const commit = await git('rev-parse', '--short', 'HEAD').catch(() => 'unknown');
const dirty = (await git('status', '--porcelain', '--untracked-files=no').catch(() => '')) !== '';
const { verdicts, summary, exitCode } = judge(figures);
section(`Every figure against its budget, at commit ${commit}${dirty ? ' (with uncommitted changes)' : ''}`);
console.log(
  table([
    ['figure', 'value', 'budget', 'runs', ''],
    ...verdicts.map((f) => [
      f.figure,
      show(f.value, f.unit),
      show(f.budget, f.unit),
      String(f.runs),
      f.pass ? 'pass' : 'FAIL',
    ]),
  ]),
);
console.log(`\n${summary}`);
if (!quick) {
  await writeFile(
    path.join(root, 'bench', 'results.json'),
    `${JSON.stringify({ commit, dirty, measuredAt: new Date().toISOString(), machine: { cores: os.cpus().length, memoryBytes: os.totalmem(), node: process.version }, figures: verdicts }, null, 2)}\n`,
  );
  console.log('Written to bench/results.json.');
}
process.exitCode = exitCode;
