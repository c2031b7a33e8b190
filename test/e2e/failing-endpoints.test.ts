import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import type { SandboxStatsSnapshot } from '../../infra/sandbox/index.js';
import type { Sandbox } from '../../infra/sandbox/server.js';
import { rm } from 'node:fs/promises';
import { LocalPipeline } from '../../infra/local/runtime.js';
import type { RetryMissingResult } from '../../infra/local/retry-missing.js';
import { parseLocalConfig } from '../../shared/config/config.js';
import { MissingBacklog } from '../../shared/lake/backlog.js';
import { martSnapshot, startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { attributeRowsOf, type AttributeRow } from '../support/provenance.js';

/**
 * A persistent fault on Spotify's multi-id `/tracks` used to hold a run for 25 minutes of retries
 * and bisection, then lose the day. With a breaker per endpoint (shared/http/circuit-breaker.ts),
 * `/tracks` is switched off after a few failed attempts, its lookups go to ReccoBeats (and
 * `/tracks/{id}` for what ReccoBeats does not know), and the day completes, bounded in time.
 */
const faults: {
  name: string;
  label: string;
  chartDate: string;
  lastError: RegExp;
  on: (s: Sandbox) => void;
}[] = [
  {
    name: 'a persistent 5xx on /v1/tracks',
    label: 'breaker-5xx',
    chartDate: '2026-09-14',
    lastError: /HTTP 503/,
    on: (s) => void s.faults.serverErrors({ provider: 'spotify', endpoint: 'tracks', status: 503 }),
  },
  {
    name: 'persistent malformed JSON on /v1/tracks',
    label: 'breaker-malformed',
    chartDate: '2026-09-15',
    lastError: /the answer is not JSON/,
    on: (s) => void s.faults.malformedJson({ provider: 'spotify', endpoint: 'tracks' }),
  },
];

/** The marts of a clean run of each fault's day, to hold retry-missing's result against. */
const cleanMarts = new Map<string, Promise<Record<string, string[]>>>();
const cleanRunOf = (chartDate: string) => {
  if (!cleanMarts.has(chartDate)) {
    cleanMarts.set(
      chartDate,
      (async () => {
        const clean = await startTestPipeline({ label: `breaker-clean-${chartDate}` });
        try {
          expect((await clean.pipeline.run({ chartId: 'global', chartDate })).status).toBe('succeeded');
          return await martSnapshot(clean.pipeline.warehouse);
        } finally {
          await clean.stop();
        }
      })(),
    );
  }
  return cleanMarts.get(chartDate)!;
};

describe.each(faults)('End to end: $name', ({ label, chartDate, lastError, on }) => {
  let t: TestPipeline;
  let closed = false;
  let summary: RunSummary;
  let served: SandboxStatsSnapshot;
  let rows: Map<string, AttributeRow>;
  let wallMs: number;
  let chart: readonly string[];
  const progress: string[] = [];

  beforeAll(async () => {
    // The providers' own retry policy and the default breaker (5 failures): what a user gets.
    t = await startTestPipeline({ label });
    const sandbox = t.pipeline.sandbox!;
    chart = sandbox.catalog.chartFor('global', chartDate);
    on(sandbox);
    t.pipeline.reportProgress((line) => progress.push(line));
    const started = performance.now();
    summary = await t.pipeline.run({ chartId: 'global', chartDate });
    wallMs = performance.now() - started;
    served = sandbox.stats.snapshot();
    rows = await attributeRowsOf(t.pipeline, summary);
  }, 600_000);
  afterAll(async () => {
    if (!closed) await t?.stop();
    else await rm(t.home, { recursive: true, force: true });
  });

  it('completes the day with every chart row, in bounded time', () => {
    expect(summary.status).toBe('succeeded');
    expect(summary.rows.chartEntriesThisDay).toBe(chart.length);
    expect(summary.failedInvocations).toEqual([]);
    // What /tracks would have given (Spotify's metadata and popularity) is kept in the lake's
    // backlog for retry-missing: a provider error, so it can be asked again at once (no quota end).
    expect(summary.backlog).toEqual({ tracks: chart.length, until: null });
    expect(summary.missing.byKind.provider_error).toBe(chart.length);
    // It used to hang for 25 minutes; now the endpoint costs seconds.
    expect(wallMs).toBeLessThan(300_000);
  });

  it('lists the open breaker in the summary, with its endpoint and last error', () => {
    expect(summary.openBreakers).toEqual([
      {
        endpoint: 'spotify GET /v1/tracks',
        reason: expect.stringMatching(/^open after \d+ failures$/),
        lastError: expect.stringMatching(lastError),
        openedAt: expect.any(String),
      },
    ]);
  });

  it('says how far the enrichment is on the way, with the open breaker once it opened', () => {
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress)
      expect(line).toMatch(
        /^chartflow: enriching \d+\/200(, spotify GET \/v1\/tracks open after \d+ failures)?$/,
      );
  });

  it('stops asking /v1/tracks once it is open: a few bisected calls, not one per track', () => {
    // Four batches of 50 bisected down to single ids, each call retried, would be well over 1,000.
    expect(served.requests.tracks).toBeLessThanOrEqual(45);
  });

  it('gets each track from the next source: metadata from ReccoBeats or /tracks/{id}, features from Spotify', () => {
    expect([...rows.keys()].sort()).toEqual([...chart].sort());
    const notOk = [...rows.values()].filter((r) => r.enrichment_status !== 'ok');
    expect(notOk).toEqual([]);
    const sources = new Set([...rows.values()].map((r) => r.metadata_source));
    expect([...sources].every((s) => s === 'reccobeats' || s === 'spotify')).toBe(true);
    expect(sources.has('reccobeats')).toBe(true);
    // Features were never asked of /v1/tracks: only those no source has are missing.
    const withoutFeatures = [...rows.values()].filter((r) => r.features_source === null);
    expect(
      withoutFeatures.filter((r) => !/reccobeats has none for this track/.test(r.missing_reason ?? '')),
    ).toEqual([]);
  });

  it("fills the marts in once the fault is gone: retry-missing, a new process, gives a clean run's marts", async () => {
    // The breaker stays open for the rest of its run; the next command is a new process.
    await t.pipeline.close();
    closed = true;
    const next = await LocalPipeline.start({
      config: parseLocalConfig({ CHARTFLOW_HOME: t.home }),
      processEnv: process.env,
    });
    let retried: RetryMissingResult;
    let marts: Record<string, string[]>;
    try {
      retried = await next.retryMissing();
      marts = await martSnapshot(next.warehouse);
      expect(await new MissingBacklog(next.store).list()).toEqual([]);
    } finally {
      await next.close();
    }
    expect(retried.stillMissing).toBe(0);
    expect(retried.days).toEqual([
      expect.objectContaining({ chartDate, tracks: chart.length, stillMissing: 0 }),
    ]);
    expect(marts).toEqual(await cleanRunOf(chartDate));
  }, 600_000);
});
