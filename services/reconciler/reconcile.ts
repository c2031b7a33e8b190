import * as z from 'zod';
import { InvalidRecordError } from '../../shared/errors.js';
import { isoDate, lakeKeys } from '../../shared/lake/keys.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { chartId, type ChartDay } from '../../shared/records/messages.js';
import { parseOrThrow } from '../../shared/parse.js';
import { stageSlices } from '../../shared/transform/stage-slices.js';
import { findDayLoads, findStaleLock } from './find-transforms.js';
import { findRawDay } from './find-days.js';
import { findStageLeftovers, findUnrequestedBatches, inWindow, type Window } from './find-leftovers.js';
import { findingKinds, type Action, type Freshness, type ReconcileReport } from './report.js';
import { newScan, type Planned, type ReconcilerDeps, type Scan } from './scan.js';

export type { ReconcilerDeps, ReconcilerSettings } from './scan.js';
export { defaultReconcilerSettings } from './scan.js';

/** The longest range one reconcile looks at: a year of days, a few listings each. */
export const maxReconcileDays = 366;

/** What to reconcile: the days (the last few unless told), one chart or all, and whether to repair. */
export const reconcileRequestSchema = z
  .object({
    from: isoDate.optional(),
    to: isoDate.optional(),
    chartId: chartId.optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();
export type ReconcileRequest = z.input<typeof reconcileRequestSchema>;

const dayMs = 86_400_000;
const claimsRoot = 'control/claims/';
const addDays = (date: string, days: number) =>
  new Date(Date.parse(date) + days * dayMs).toISOString().slice(0, 10);

/** The window a request names, the last `defaultDays` up to today unless told; and whether to repair. */
export const windowOf = (
  request: ReconcileRequest,
  deps: Pick<ReconcilerDeps, 'clock' | 'settings'>,
): Window & { readonly dryRun: boolean } => {
  const parsed = parseOrThrow(reconcileRequestSchema, request, 'reconcile request');
  const today = deps.clock.now().toISOString().slice(0, 10);
  const to = parsed.to ?? (parsed.from && parsed.from > today ? parsed.from : today);
  const from = parsed.from ?? addDays(to, 1 - deps.settings.defaultDays);
  if (from > to) throw new InvalidRecordError(`reconcile request: from (${from}) is after to (${to})`);
  const days = (Date.parse(to) - Date.parse(from)) / dayMs + 1;
  if (days > maxReconcileDays)
    throw new InvalidRecordError(
      `reconcile request: ${days} days from ${from} to ${to}, more than ${maxReconcileDays}`,
    );
  return { from, to, ...(parsed.chartId ? { chartId: parsed.chartId } : {}), dryRun: parsed.dryRun };
};

/**
 * Finds every chart day in the window that the pipeline left inconsistent, and (unless a dry run)
 * repairs each through the owner of its protocol; says what it found, what it did, and what it left
 * alone because a live run may be at it (docs/reliability.md, "The reconciler"). A second reconcile
 * finds nothing more to do. Also says, per configured chart, when its last run succeeded.
 */
export const reconcile = async (
  request: ReconcileRequest,
  deps: ReconcilerDeps,
): Promise<ReconcileReport> => {
  const { dryRun, ...window } = windowOf(request, deps);
  // The lock and the stage first, the records after: a load or a batch that starts after these
  // reads is not mistaken for one that ended (see find-leftovers.ts).
  const scan = await newScan(deps);
  // A lake that never loaded has no stage to look at (nor, locally, a warehouse file, which looking would create).
  const loadedBefore = (await deps.store.list(claimsRoot)).length > 0;
  const slices = loadedBefore ? await stageSlices(deps.warehouse) : [];
  const planned: Planned[] = [...(await findStaleLock(scan))];
  const days = await daysToScan(scan, window, slices);
  for (const day of days) planned.push(...(await findDay(scan, day)));
  planned.push(...(await findUnrequestedBatches(scan, window)));
  planned.push(...(await findStageLeftovers(scan, slices, window)));
  planned.sort((a, b) => findingKinds.indexOf(a.finding.kind) - findingKinds.indexOf(b.finding.kind));

  const actions: Action[] = [];
  if (!dryRun) for (const item of planned) actions.push(...(await repair(item)));
  return {
    from: window.from,
    to: window.to,
    ...(window.chartId ? { chartId: window.chartId } : {}),
    dryRun,
    findings: planned.map((p) => p.finding),
    actions,
    leftAlone: scan.leftAlone,
    staleAfterHours: deps.settings.staleAfterMs / 3_600_000,
    freshness: await freshness(scan, window),
  };
};

/** One repair; a failure is reported, and the others go on. */
const repair = async (item: Planned): Promise<Action[]> => {
  try {
    return await item.repair();
  } catch (error) {
    const { kind: _kind, evidence: _evidence, ...subject } = item.finding;
    return [{ kind: item.action, ...subject, detail: 'the repair failed', error: (error as Error).message }];
  }
};

/**
 * The days and charts of the window that the lake has anything of (raw data or run records), and
 * those of the stage's slices whatever their day: rows left in the stage are found however old.
 */
const daysToScan = async (scan: Scan, window: Window, slices: readonly ChartDay[]): Promise<ChartDay[]> => {
  const found = new Map<string, ChartDay>();
  const add = (day: ChartDay) =>
    found.set(`${day.chartDate}/${day.chartId}`, { chartId: day.chartId, chartDate: day.chartDate });
  for (let date = window.from; date <= window.to; date = addDays(date, 1)) {
    const listed = await Promise.all([
      // Stryker disable next-line StringLiteral: listing the whole lake instead adds only chart days with neither a manifest nor a run record of this date, for which findDay finds nothing
      scan.deps.store.list(`raw/chart_songs/date=${date}/`),
      // Stryker disable next-line StringLiteral: listing the whole lake instead adds only chart days with neither a manifest nor a run record of this date, for which findDay finds nothing
      scan.deps.store.list(`control/runs/date=${date}/`),
    ]);
    for (const { key } of listed.flat()) {
      const chart = /\/chart=([^/]+)\//.exec(key)?.[1];
      if (chart && chartId.safeParse(chart).success && inWindow(window, { chartId: chart, chartDate: date }))
        add({ chartId: chart, chartDate: date });
    }
  }
  for (const slice of slices)
    if (window.chartId === undefined || slice.chartId === window.chartId) add(slice);
  return [...found.values()].sort(
    (a, b) => a.chartDate.localeCompare(b.chartDate) || a.chartId.localeCompare(b.chartId),
  );
};

/** Everything one day and chart needs; a day whose records cannot be read is left, and says why. */
const findDay = async (scan: Scan, day: ChartDay): Promise<Planned[]> => {
  try {
    const [manifest, records, claims] = await Promise.all([
      readManifest(scan.deps.store, day),
      scan.records.list(day),
      scan.deps.store.list(lakeKeys.claimsPrefix(day.chartDate, day.chartId)),
    ]);
    const planned = await findDayLoads(scan, day, records, manifest);
    const raw = manifest && (await findRawDay(scan, day, manifest, records, claims));
    return raw ? [...planned, raw] : planned;
  } catch (error) {
    if (!(error instanceof InvalidRecordError)) throw error;
    scan.leftAlone.push({ ...day, why: `it cannot be reconciled: ${error.message}` });
    return [];
  }
};

/** Per configured chart (the window's one, if it names one): its last successful run, and whether it is stale. */
const freshness = async (scan: Scan, window: Window): Promise<Freshness[]> => {
  const charts =
    window.chartId === undefined ? scan.deps.charts : scan.deps.charts.filter((c) => c === window.chartId);
  const today = new Date(scan.now).toISOString().slice(0, 10);
  return Promise.all(
    charts.map(async (chart): Promise<Freshness> => {
      const latest = await scan.records.latest({ limit: 40, chartId: chart, today });
      const ended = latest
        .filter((r) => r.status === 'succeeded')
        .map((r) => r.transform?.finishedAt ?? r.updatedAt)
        .sort();
      const last = ended.at(-1) ?? null;
      return {
        chartId: chart,
        lastSucceededAt: last,
        stale: last === null || scan.now - Date.parse(last) > scan.deps.settings.staleAfterMs,
      };
    }),
  );
};
