import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import type { RetryMissingResult } from '../../infra/local/retry-missing.js';
import type { Sandbox } from '../../infra/sandbox/index.js';
import { MissingBacklog, retryableFrom, type BacklogEntry } from '../../shared/lake/backlog.js';
import { kindsOf, missingOf, retryableKinds } from '../../shared/records/missing-reasons.js';
import { martSnapshot, startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { attributeRowsOf, type AttributeRow } from '../support/provenance.js';

/**
 * Issue 12, "a day loads with what it has": a provider that cannot answer (a quota, tracks failing
 * at every provider) no longer holds or drops the day. Each scenario runs a day under a fault,
 * then lifts it and runs `retry-missing`, and compares the marts with a clean run of the same day.
 */
const chartDate = '2026-09-14';
const chartId = 'global';
/** Short retries, so that ids failing at every provider are isolated in seconds. */
const retry = { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20, maxInlineWaitMs: 1_000 };
/** Generous: the same day used to stay `not_loaded` behind a 12-hour hide. */
const boundMs = 180_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Scenario {
  t: TestPipeline;
  summary: RunSummary;
  tookMs: number;
  rows: Map<string, AttributeRow>;
  backlog: BacklogEntry[];
  deadLetters: number;
  retried: RetryMissingResult;
  marts: Record<string, string[]>;
  chart: readonly string[];
}

/** Runs the day under a fault, records what it left, lifts the fault and retries the backlog. */
const underFault = async (label: string, fault: (sandbox: Sandbox, chart: readonly string[]) => void) => {
  const t = await startTestPipeline({ label, retry });
  const sandbox = t.pipeline.sandbox!;
  const chart = sandbox.catalog.chartFor(chartId, chartDate);
  fault(sandbox, chart);
  const started = performance.now();
  const summary = await t.pipeline.run({ chartId, chartDate });
  const tookMs = performance.now() - started;
  const rows = await attributeRowsOf(t.pipeline, summary);
  const backlog = await new MissingBacklog(t.pipeline.store).list();
  const deadLetters = t.pipeline.deadLetters.peek().length;
  sandbox.faults.clear();
  // A quota's entries are asked again once it has ended (the sandbox's quota ends by then too).
  const until = backlog.map(retryableFrom).filter((u): u is string => u !== undefined);
  const waitMs = Math.max(0, ...until.map((u) => Date.parse(u) - Date.now()));
  await sleep(waitMs + 100);
  const retried = await t.pipeline.retryMissing();
  const marts = await martSnapshot(t.pipeline.warehouse);
  return { t, summary, tookMs, rows, backlog, deadLetters, retried, marts, chart } satisfies Scenario;
};

/** What every scenario must show: the day complete, what is missing said with its kind, the backlog kept. */
const expectDayLoadedWithWhatItHas = (s: Scenario) => {
  expect(s.tookMs).toBeLessThan(boundMs);
  expect(s.summary).toMatchObject({ status: 'succeeded', failedInvocations: [], deadLettered: [] });
  expect(s.summary.rows.chartEntriesThisDay).toBe(s.chart.length);
  expect(s.deadLetters).toBe(0);
  // Every chart track has its row; a row lacking a group says why, led by a known kind.
  expect([...s.rows.keys()].sort()).toEqual([...s.chart].sort());
  for (const row of s.rows.values()) {
    if (row.metadata_source && row.popularity_source && row.features_source) continue;
    expect(kindsOf(row.missing_reason), `${row.track_id}: ${row.missing_reason}`).not.toEqual([]);
    expect(row.missing_reason!).toMatch(/^(quota|provider_error|not_found): /);
  }
  // The backlog in the lake names exactly the tracks whose rows lack something worth asking again.
  const retryable = [...s.rows.values()]
    .filter((r) => kindsOf(r.missing_reason).some((k) => retryableKinds.includes(k)))
    .map((r) => r.track_id);
  expect(s.backlog.map((e) => e.trackId).sort()).toEqual(retryable.sort());
  expect(s.backlog.every((e) => e.runId === s.summary.runId && e.chartDate === chartDate)).toBe(true);
  expect(s.summary.backlog).toMatchObject({ tracks: s.backlog.length });
  // The summary's count (from the parts' markers) is the count of the rows in the lake.
  expect(s.summary.missing).toEqual(missingOf(s.rows.values()));
};

/** After the fault is lifted, `retry-missing` leaves the marts of a clean run, and an empty backlog. */
const expectRetryFills = async (s: Scenario, clean: Record<string, string[]>) => {
  expect(s.retried.days).toEqual([
    expect.objectContaining({ chartId, chartDate, tracks: s.backlog.length, stillMissing: 0 }),
  ]);
  expect(s.retried.days[0]!.run).toMatchObject({ status: 'succeeded' });
  expect(s.retried.stillMissing).toBe(0);
  expect(await new MissingBacklog(s.t.pipeline.store).list()).toEqual([]);
  expect(s.marts).toEqual(clean);
};

describe('End to end: a day loads with what it has, and retry-missing fills the rest', () => {
  let clean: Record<string, string[]>;

  beforeAll(async () => {
    const t = await startTestPipeline({ label: 'missing-clean', retry });
    try {
      const summary = await t.pipeline.run({ chartId, chartDate });
      expect(summary.status).toBe('succeeded');
      clean = await martSnapshot(t.pipeline.warehouse);
    } finally {
      await t.stop();
    }
  });

  describe('a spent quota on ReccoBeats, the fallback', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await underFault('missing-reccobeats-quota', (sandbox) =>
        sandbox.faults.quotaExceeded({ provider: 'reccobeats', retryAfterSeconds: 4 }),
      );
    });
    afterAll(() => s?.t.stop());

    it("completes the day, keeps Spotify's answers, and records what ReccoBeats would have given as a quota", () => {
      expectDayLoadedWithWhatItHas(s);
      expect(s.summary.missing.byKind.quota).toBeGreaterThan(0);
      expect(s.backlog.length).toBe(s.summary.missing.byKind.quota);
      expect(s.backlog.flatMap((e) => e.gaps.map((g) => g.kind))).toEqual(
        s.backlog.flatMap((e) => e.gaps.map(() => 'quota')),
      );
      // Spotify answered every track: its metadata and popularity are all there.
      expect([...s.rows.values()].filter((r) => r.metadata_source !== 'spotify')).toEqual([]);
      expect([...s.rows.values()].filter((r) => r.popularity_source === null)).toEqual([]);
    });

    it('retry-missing then gives the marts of a clean run', async () => {
      await expectRetryFills(s, clean);
    });
  });

  describe('a spent quota on Spotify /tracks', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await underFault('missing-tracks-quota', (sandbox) =>
        sandbox.faults.quotaExceeded({ provider: 'spotify', endpoint: 'tracks', retryAfterSeconds: 4 }),
      );
    });
    afterAll(() => s?.t.stop());

    it('completes the day: ReccoBeats stands in where it can, and every track is in the backlog as a quota', () => {
      expectDayLoadedWithWhatItHas(s);
      expect(s.backlog).toHaveLength(s.chart.length);
      expect(s.backlog.every((e) => e.gaps.some((g) => g.group === 'metadata' && g.kind === 'quota'))).toBe(
        true,
      );
      expect(s.backlog.every((e) => e.gaps.every((g) => g.until !== undefined))).toBe(true);
      const rows = [...s.rows.values()];
      expect(rows.filter((r) => r.metadata_source === 'spotify')).toEqual([]);
      expect(rows.filter((r) => r.metadata_source === 'reccobeats').length).toBeGreaterThan(0);
    });

    it('retry-missing then gives the marts of a clean run', async () => {
      await expectRetryFills(s, clean);
    });
  });

  describe('3 ids failing at both providers', () => {
    let s: Scenario;
    let failing: string[];
    beforeAll(async () => {
      s = await underFault('missing-both-fail', (sandbox, chart) => {
        failing = [chart[3]!, chart[77]!, chart[150]!];
        sandbox.faults.failTrackLookups(failing);
        sandbox.faults.failTrackLookups(failing, { provider: 'reccobeats' });
      });
    });
    afterAll(() => s?.t.stop());

    it('completes the day with the 3 tracks charted, missing with a provider_error, and in the backlog', () => {
      expectDayLoadedWithWhatItHas(s);
      expect(s.backlog.map((e) => e.trackId).sort()).toEqual([...failing].sort());
      for (const id of failing) {
        expect(s.rows.get(id)).toMatchObject({
          enrichment_status: 'missing',
          metadata_source: null,
          missing_reason: expect.stringMatching(/^provider_error: spotify tracks: .*HTTP 500/),
        });
      }
      expect(s.summary.missing.byKind.provider_error).toBe(3);
    });

    it('retry-missing then gives the marts of a clean run', async () => {
      await expectRetryFills(s, clean);
    });
  });
});
