import type { ChartDay, Manifest } from '../../shared/records/messages.js';
import type { ObjectInfo } from '../../shared/ports/index.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { chartCsvOfManifest, chartCsvSuperseded, keysOf, listDay } from '../../shared/lake/layouts.js';
import { keyedParts } from '../../shared/lake/part-markers.js';
import { redeliverManifest } from './repairs.js';
import { pastGrace, type Planned, type Scan } from './scan.js';

/** What the keys of a day's prefixes (under `raw/` and `tables/`) say of its manifest's run. */
interface RawDay {
  readonly manifestInfo: ObjectInfo;
  /** When the day's newest object was written. */
  readonly lastWrite: Date;
  /** Tracks of the manifest no marked part covers, or `undefined` when keys cannot tell (no markers). */
  readonly missing: number | undefined;
  /** Whether the chart CSV is still the run's (its ETag is the manifest's md5). */
  readonly chartIsTheRuns: boolean;
}

const rawDay = async (scan: Scan, day: ChartDay, manifest: Manifest): Promise<RawDay | undefined> => {
  const { charts, attributes } = await listDay(scan.deps.store, day);
  const manifestInfo = charts.find((o) => o.key === lakeKeys.manifest(day.chartDate, day.chartId));
  if (!manifestInfo) return undefined;
  const lastWrite = new Date(Math.max(...[...charts, ...attributes].map((o) => o.lastModified.getTime())));
  if (manifest.chartCsvMd5 === undefined) {
    // Stryker disable next-line BooleanLiteral: without an md5 `missing` is undefined, so the day is never `complete` whatever this says, and findRawDay takes the no-markers branch either way
    return { manifestInfo, lastWrite, missing: undefined, chartIsTheRuns: true };
  }
  const { covered } = keyedParts(attributes, day, manifest.runId);
  const listed = keysOf(charts);
  const chartCsv = chartCsvOfManifest(day, manifest.files, listed);
  return {
    manifestInfo,
    lastWrite,
    missing: manifest.trackIds.filter((_, index) => !covered.has(index)).length,
    // Either layout (shared/lake/layouts.ts); a legacy one beside a `tables/` one is a later run's.
    chartIsTheRuns:
      !chartCsvSuperseded(day, chartCsv, listed) &&
      charts.some((o) => o.key === chartCsv && o.etag === manifest.chartCsvMd5),
  };
};

/**
 * The raw day of the manifest's run, when the run was never claimed: complete (its ObjectCreated
 * was lost: the loader is handed it again), or incomplete for good (its missing tracks can no
 * longer arrive: the batch protocol records the run `not_loaded`, once). Completeness is read from
 * keys as the loader reads it (`shared/lake/part-markers.ts`); the loader still decides for itself.
 */
export const findRawDay = async (
  scan: Scan,
  day: ChartDay,
  manifest: Manifest,
  records: readonly RunRecord[],
  claims: readonly ObjectInfo[],
): Promise<Planned | undefined> => {
  const runId = manifest.runId;
  if (claims.some((c) => c.key === lakeKeys.claim(day.chartDate, day.chartId, runId))) return undefined;
  const raw = await rawDay(scan, day, manifest);
  if (!raw) return undefined;
  const subject = { ...day, runId };
  const complete = raw.missing === 0 && raw.chartIsTheRuns;
  if (complete || raw.missing === undefined) {
    if (!pastGrace(scan, raw.lastWrite)) {
      scan.leftAlone.push({
        ...subject,
        why: `its newest object was written at ${raw.lastWrite.toISOString()}: its events may still be on their way`,
      });
      return undefined;
    }
    const evidence = complete
      ? `every one of its ${manifest.trackIds.length} tracks is covered and the chart CSV is the run's, and the run was never claimed`
      : 'its manifest has no part markers (the loader reads its files to decide), and the run was never claimed';
    return {
      finding: { kind: 'unloaded', ...subject, evidence },
      action: 'redelivered_object_created',
      repair: () => redeliverManifest(scan, subject),
    };
  }
  return neverCompleted(scan, subject, manifest, raw, records);
};

const neverCompleted = (
  scan: Scan,
  run: ChartDay & { runId: string },
  manifest: Manifest,
  raw: RawDay,
  records: readonly RunRecord[],
): Planned | undefined => {
  if (records.some((r) => r.runId === run.runId)) return undefined;
  const { tracksGoneAfterMs, missingTracks } = scan.deps.settings;
  const missing = raw.missing ?? 0;
  const gone = raw.manifestInfo.lastModified.getTime() + tracksGoneAfterMs;
  const what =
    raw.missing === 0
      ? 'its chart CSV is not the run’s'
      : `${missing} of its ${manifest.trackIds.length} tracks have no attributes`;
  if (scan.now <= gone) {
    scan.leftAlone.push({
      ...run,
      why: `${what}; its track messages may still arrive until ${new Date(gone).toISOString()}`,
    });
    return undefined;
  }
  const fate =
    missingTracks === 'dead_lettered'
      ? 'their track messages were dead-lettered (or never sent)'
      : 'their track messages were lost with the process that held them';
  const reason = `the day never completed: ${what}, and ${fate} (found by the reconciler)`;
  return {
    finding: {
      kind: 'never_completed',
      ...run,
      evidence: `${what}, and nothing can deliver them any more (manifest written at ${raw.manifestInfo.lastModified.toISOString()})`,
    },
    action: 'recorded_not_loaded',
    repair: async () => {
      const deadLettered = missingTracks === 'dead_lettered' ? { deadLettered: missing } : {};
      await scan.protocol.recordNotLoaded(run, reason, deadLettered);
      scan.deps.metrics?.runOutcome('not_loaded', run.chartId, 1);
      return [{ kind: 'recorded_not_loaded', ...run, detail: `recorded the run not_loaded: ${reason}` }];
    },
  };
};
