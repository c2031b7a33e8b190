import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { EnrichProgress } from '../../../infra/local/enrich-progress.js';
import type { OpenBreaker } from '../../../shared/http/circuit-breaker.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { markPart, md5Of } from '../../../shared/lake/part-markers.js';
import { eventually } from '../../shared/http/manual-clock.js';

const day = { chartId: 'global', chartDate: '2026-09-14' };
const runId = 'run-0001-progress';
const trackIds = Array.from({ length: 10 }, (_, i) => `track${String(i).padStart(17, '0')}`.slice(0, 22));

describe('Class: EnrichProgress', () => {
  let root: string;
  let store: FsObjectStore;
  let open: OpenBreaker[];
  let lines: string[];
  let progress: EnrichProgress;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-progress-'));
    store = new FsObjectStore({ root });
    open = [];
    lines = [];
    progress = new EnrichProgress({
      store,
      breakers: { opened: () => open },
      note: (line) => lines.push(line),
      intervalMs: 10,
    });
    await store.put(
      lakeKeys.manifest(day.chartDate, day.chartId),
      JSON.stringify({ ...day, runId, source: 'test', extractedAt: '2026-09-14T06:30:00Z', trackIds }),
    );
  });
  afterEach(async () => {
    progress.settle();
    await rm(root, { recursive: true, force: true });
  });

  /** Lands a part as track-attributes does: its two CSVs, then its marker naming the tracks it covers. */
  const land = async (part: string, indexes: number[]) => {
    const attributesCsv = `track_id\n${indexes.map((i) => trackIds[i]).join('\n')}\n`;
    const artistsCsv = 'track_id,artist_id\n';
    await store.put(lakeKeys.attributesCsv(day.chartDate, day.chartId, part), attributesCsv);
    await store.put(lakeKeys.artistsCsv(day.chartDate, day.chartId, part), artistsCsv);
    await markPart(store, {
      ...day,
      runId,
      part,
      trackIds: indexes.map((i) => trackIds[i]!),
      indexes,
      files: [],
      attributesMd5: md5Of(attributesCsv),
      artistsMd5: md5Of(artistsCsv),
    });
  };

  it('counts the tracks landed against the manifest, names the open breakers, and says each change once', async () => {
    progress.watch(day, runId);
    await land('part-00000000000000a0', [0, 1, 2]);
    await eventually(() => lines.includes('chartflow: enriching 3/10'));

    open = [
      {
        endpoint: 'spotify GET /v1/tracks',
        reason: 'open after 5 failures',
        lastError: 'HTTP 500',
        openedAt: '2026-09-14T06:31:00.000Z',
      },
    ];
    await eventually(
      () => lines.at(-1) === 'chartflow: enriching 3/10, spotify GET /v1/tracks open after 5 failures',
    );

    await land('part-00000000000000b0', [3, 4, 5, 6, 7, 8, 9]);
    await eventually(
      () => lines.at(-1) === 'chartflow: enriching 10/10, spotify GET /v1/tracks open after 5 failures',
    );
    // Nothing changes any more: no new line, however many ticks pass.
    const count = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(lines).toHaveLength(count);
    expect(new Set(lines).size).toBe(lines.length);
  });

  it('says nothing about parts of another run', async () => {
    progress.watch(day, 'run-0002-other');
    await land('part-00000000000000a0', [0, 1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(lines.filter((l) => !l.endsWith(' 0/10'))).toEqual([]);
  });
});
