import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import { gatherReport } from '../../infra/local/report/report-data.js';
import { renderReport } from '../../infra/local/report/report-html.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { startTestPipeline, type TestPipeline } from '../support/pipeline.js';

const day = { chartId: 'br', chartDate: '2026-10-21' };

/**
 * A lake that refuses every artists CSV of the day (track-attributes writes it first, create-if-absent): track-attributes fails on every delivery (an
 * error of our own, not a provider's), and SQS's redrive dead-letters the day's track messages.
 */
const refusingArtistsCsvs = (store: ObjectStore): ObjectStore =>
  new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if ((property !== 'put' && property !== 'createIfAbsent') || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (key: string, ...rest: unknown[]) =>
        key.startsWith('tables/song_artists/') && key.includes(`date=${day.chartDate}`)
          ? Promise.reject(new Error(`disk full writing ${key}`))
          : (value as (...args: unknown[]) => Promise<unknown>).call(target, key, ...rest);
    },
  });

describe('A run whose track messages were dead-lettered', () => {
  let t: TestPipeline;
  let summary: RunSummary;
  let record: RunRecord | undefined;

  beforeAll(async () => {
    t = await startTestPipeline({
      label: 'dead-lettered',
      queue: { visibilityTimeoutMs: 300, maxReceiveCount: 2 },
      store: refusingArtistsCsvs,
    });
    summary = await t.pipeline.run(day);
    [record] = await new RunRecords(t.pipeline.store).list(day);
  }, 300_000);
  afterAll(() => t?.stop());

  it('does not load, and its record counts the dead-lettered tracks beside the reason', () => {
    expect(summary.status).toBe('not_loaded');
    expect(summary.deadLettered).toHaveLength(50);
    expect(record).toMatchObject({
      status: 'not_loaded',
      deadLettered: 50,
      reason: expect.stringMatching(/^the day never completed: 50 track\(s\) dead-lettered/),
    });
  });

  it('shows them in the report’s data health', async () => {
    const data = await gatherReport({
      reader: undefined,
      scope: { chartId: day.chartId, from: day.chartDate, to: day.chartDate },
      runs: [record!],
      now: new Date(),
    });
    const html = renderReport(data, { scripts: [] });
    const row = /<tbody><tr>(.*?)<\/tr>/s.exec(html.slice(html.indexOf('id="data-health"')))![1]!;
    const cells = [...row.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((m) => m[1]);
    expect(cells[2]).toContain('not_loaded');
    expect(cells[7]).toBe('50');
  });
});
