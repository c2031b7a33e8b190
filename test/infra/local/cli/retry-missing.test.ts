import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { MissingBacklog, type BacklogEntry } from '../../../../shared/lake/backlog.js';
import { manifestSchema } from '../../../../shared/records/messages.js';
import { lakeKeys } from '../../../../shared/lake/keys.js';
import { chartflowChild } from '../../../support/chartflow-child.js';

const chartDate = '2026-08-01';
const chartId = 'br';

/** `node bin/chartflow.js …` in a home of its own: its exit code, standard output and standard error. */
const chartflow = (home: string, ...args: string[]) => chartflowChild(home, args);

describe('Command: chartflow retry-missing, in a child process', () => {
  let home: string;
  let backlog: MissingBacklog;
  let entry: BacklogEntry;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-retry-missing-'));
    const ran = await chartflow(home, 'run', '--date', chartDate, '--chart', chartId);
    expect(ran.code).toBe(0);
    const store = new FsObjectStore({ root: parseLocalConfig({ CHARTFLOW_HOME: home }).lakeRoot });
    backlog = new MissingBacklog(store);
    const manifest = manifestSchema.parse(
      JSON.parse((await store.get(lakeKeys.manifest(chartDate, chartId)))!.toString('utf8')),
    );
    // What a run under a quota would have left for one of the day's tracks.
    entry = {
      trackId: manifest.trackIds[4]!,
      chartDate,
      chartId,
      runId: manifest.runId,
      recordedAt: new Date().toISOString(),
      gaps: [
        {
          group: 'features',
          kind: 'quota',
          reason: 'quota: no audio features: reccobeats GET /v1/audio-features: rate limited',
          until: new Date(Date.now() + 86_400_000).toISOString(),
        },
      ],
    };
  }, 600_000);
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('exits 0 and says so when the backlog is empty', async () => {
    const result = await chartflow(home, 'retry-missing');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/the backlog is empty/);
  }, 300_000);

  it('skips a day whose tracks wait for a quota, says until when, and exits 1', async () => {
    await backlog.record([entry]);
    const result = await chartflow(home, 'retry-missing', '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`wait for a quota until ${entry.gaps[0]!.until}; skipped`);
    expect(JSON.parse(result.stdout)).toMatchObject({
      stillMissing: 1,
      days: [{ chartId, chartDate, tracks: 1, skippedUntil: entry.gaps[0]!.until, run: null }],
    });
    expect(await backlog.list()).toEqual([entry]);
  }, 300_000);

  it('asks again what may be asked now: a new run of the day fills it, empties the backlog, exits 0', async () => {
    await backlog.record([
      {
        ...entry,
        gaps: [{ group: 'features', kind: 'provider_error', reason: 'provider_error: HTTP 500' }],
      },
    ]);
    const result = await chartflow(home, 'retry-missing', '--date', chartDate, '--chart', chartId, '--json');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { days: { run: { runId: string } }[] };
    expect(parsed).toMatchObject({
      stillMissing: 0,
      days: [
        {
          chartId,
          chartDate,
          tracks: 1,
          skippedUntil: null,
          stillMissing: 0,
          run: { status: 'succeeded', rows: { chartEntriesThisDay: 50 } },
        },
      ],
    });
    expect(parsed.days[0]!.run.runId).not.toBe(entry.runId);
    expect(await backlog.list()).toEqual([]);
  }, 300_000);
});
