import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { enrichTracks, type DeliveredTrack } from '../../../services/track-attributes/enrich-tracks.js';
import type {
  AttributeProvider,
  TrackLookup,
} from '../../../services/track-attributes/enrichment/attribute-provider.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import { listDay } from '../../../shared/lake/layouts.js';
import { createdKeysOf } from '../../../shared/events/s3-event.js';
import { checkFiles } from '../../../shared/lake/lake-files.js';
import { readPartManifest } from '../../../shared/lake/part-markers.js';
import { kindReason } from '../../../shared/records/missing-reasons.js';
import type { Manifest } from '../../../shared/records/messages.js';
import type { Clock } from '../../../shared/ports/clock.js';

const clock: Clock = { now: () => new Date('2025-01-02T06:00:00.000Z'), sleep: async () => undefined };
const day = { chartId: 'global', chartDate: '2025-01-01' };
const runId = 'run-000001';
const ids = ['track1', 'track2'];
const delivered = (trackId: string, receiveCount = 1): DeliveredTrack => ({
  messageId: trackId,
  receiveCount,
  message: { runId, ...day, trackId },
});

/**
 * A part's files are written once per run (docs/reliability.md, "A lake that proves itself"): a
 * redelivered batch, or a duplicate running beside the first, keeps what the first wrote and marks
 * exactly that, so no listed file ever changes under its manifest.
 */
describe('Function: enrichTracks, a part written once', () => {
  let home: string;
  let store: FsObjectStore;
  let answers: number;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-enrich-once-'));
    store = new FsObjectStore({ root: home });
    answers = 0;
    const manifest: Manifest = {
      runId,
      ...day,
      source: 't',
      extractedAt: '2025-01-02T05:00:00.000Z',
      trackIds: ids,
      skipped: [],
      chartCsvMd5: '0'.repeat(32),
      files: [],
    };
    await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(manifest));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  /** Each lookup answers otherwise than the one before: the first finds nothing, the next fail. */
  const provider: AttributeProvider = {
    lookup: async (trackIds) => {
      answers += 1;
      const lookup: TrackLookup =
        answers === 1
          ? { status: 'not_found', reason: 'unknown id' }
          : { status: 'missing', reason: kindReason('provider_error', `answer ${answers}`) };
      return { results: new Map(trackIds.map((id) => [id, lookup])), raw: { answers }, quarantine: [] };
    },
  };
  const enrich = (receiveCount = 1) =>
    enrichTracks(
      ids.map((id) => delivered(id, receiveCount)),
      { store, provider, clock },
    );
  const files = async () =>
    Object.fromEntries(
      await Promise.all(
        (await listDay(store, day)).attributes.map(
          async ({ key }) => [key, (await store.get(key))!.toString('utf8')] as const,
        ),
      ),
    );

  it('keeps the first delivery’s files when the batch is delivered again, and marks them once', async () => {
    await enrich();
    const first = await files();
    // Its part is marked: delivered again, the batch asks no provider and changes nothing.
    await enrich(2);
    expect(answers).toBe(1);
    expect(await files()).toEqual(first);
    // Its marker gone (the first delivery stopped before it), the batch is looked up again, and
    // the files the first wrote are kept and marked.
    const marker = Object.keys(first).find((key) => key.includes('/_done.'))!;
    await store.delete(marker);
    await enrich(3);
    expect(answers).toBe(2);
    expect(await files()).toEqual(first);
    const markers = Object.keys(first).filter((key) => key.includes('/_done.'));
    expect(markers).toHaveLength(1);
    const partManifest = (await readPartManifest(store, markers[0]!))!;
    expect(partManifest).toMatchObject({ runId, ...day, trackIds: ids });
    expect(partManifest.files.map((f) => f.rows)).toEqual([null, 2, 0]);
    expect(await checkFiles(store, partManifest.files)).toEqual([]);
    // It counts what the kept rows lack (the first answer: not found), not what the second said
    // (a provider_error each).
    expect(partManifest.missing).toEqual({
      notFound: 2,
      withoutFeatures: 0,
      byKind: { quota: 0, provider_error: 0, not_found: 0 },
    });
  });

  it('writes the part’s CSVs under tables/ first, then what fires the loader under raw/: its raw answer, its marker', async () => {
    const created: string[] = [];
    store = new FsObjectStore({
      root: home,
      onObjectCreated: (event) => created.push(...createdKeysOf(event)),
    });
    await enrich();
    const part = partName(runId, ids);
    expect(created).toEqual([
      lakeKeys.artistsCsv(day.chartDate, day.chartId, part),
      lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
      lakeKeys.attributesRaw(day.chartDate, day.chartId, part),
      expect.stringMatching(new RegExp(`/_done\\.run=${runId}\\.${part}\\.`)),
    ]);
  });

  it('on a day too long for markers, writes a part’s raw answer after its CSVs: its ObjectCreated finds the part whole', async () => {
    const manifest = JSON.parse(
      (await store.get(lakeKeys.manifest(day.chartDate, day.chartId)))!.toString('utf8'),
    ) as Manifest;
    delete manifest.chartCsvMd5;
    await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(manifest));
    const created: string[] = [];
    store = new FsObjectStore({
      root: home,
      onObjectCreated: (event) => created.push(...createdKeysOf(event)),
    });
    await enrich();
    const part = partName(runId, ids);
    // No marker: the last write under raw/, the only one that starts a load, follows both CSVs.
    expect(created).toEqual([
      lakeKeys.artistsCsv(day.chartDate, day.chartId, part),
      lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
      lakeKeys.attributesRaw(day.chartDate, day.chartId, part),
    ]);
  });

  it('gives duplicates running side by side one set of files, which their marker describes', async () => {
    await Promise.all([enrich(), enrich(), enrich()]);
    const after = await files();
    const markers = Object.keys(after).filter((key) => key.includes('/_done.'));
    expect(markers).toHaveLength(1);
    expect(await checkFiles(store, (await readPartManifest(store, markers[0]!))!.files)).toEqual([]);
  });
});
