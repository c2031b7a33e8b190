import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasets, lakeKeys, rawPrefix, tablePrefix } from '../../shared/lake/keys.js';
import { stageTableNames } from '../../shared/records/stage-tables.js';
import type { FileProblemKind } from '../../shared/lake/lake-files.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { AwsPipeline } from '../support/aws-pipeline.js';
import { roleAllows } from '../support/iam-policy.js';
import { motoAvailable, startMoto, type Moto } from '../support/moto.js';
import { martSnapshot, stageRows } from '../support/pipeline.js';
import { packageServerless } from '../support/serverless-template.js';
import { postgresAvailable } from '../support/services.js';

const available = motoAvailable();
const day = { chartId: 'global', chartDate: '2026-09-21' };

/** The day's lake files a damage can reach, found in the lake once the day has run. */
interface DayFiles {
  readonly chartCsv: string;
  readonly attributesCsv: string;
  readonly artistsCsv: string;
}

/** One damage: which file, what it becomes (`undefined`: deleted), and how the loader must name it. */
interface Damage {
  readonly name: string;
  readonly key: (files: DayFiles) => string;
  readonly damage: (body: Buffer) => Buffer | undefined;
  readonly kind: FileProblemKind;
}

/** The chart CSV's header and its first 94 rows: a file cut at a line boundary, which still parses. */
const cutAtLine = (body: Buffer): Buffer => {
  const lines = body.toString('utf8').split('\n');
  expect(lines.length).toBeGreaterThan(100);
  return Buffer.from(`${lines.slice(0, 95).join('\n')}\n`);
};

/** Cut a few characters into a record, well inside the file. */
const cutMidRecord = (body: Buffer): Buffer => {
  const newline = body.indexOf('\n', Math.floor(body.length / 2));
  expect(newline).toBeGreaterThan(10);
  return body.subarray(0, newline - 5);
};

/** 400 random bytes over the middle of the file: the same size, other bytes. */
const randomBytesInside = (body: Buffer): Buffer => {
  expect(body.length).toBeGreaterThan(800);
  const noisy = Buffer.from(body);
  randomBytes(400).copy(noisy, Math.floor(body.length / 2) - 200);
  return noisy;
};

/**
 * One track's popularity changed to another value of two digits, in place: the same size, a file
 * that still parses, and a value a check of ranges would let through.
 */
const editPopularity = (body: Buffer): Buffer => {
  const text = body.toString('utf8');
  const rows = fromStageCsv('song_attributes', text);
  const row = rows.find((r) => /^[1-8]\d$/.test(r.popularity ?? '') && /^[A-Z0-9]{12}$/.test(r.isrc ?? ''));
  expect(row).toBeDefined();
  // Stage CSVs quote every text (the ISRC) and leave numbers bare.
  const before = `,${row!.popularity},"${row!.isrc}",`;
  const after = `,${Number(row!.popularity) + 11},"${row!.isrc}",`;
  expect(text.split(before)).toHaveLength(2);
  const edited = Buffer.from(text.replace(before, after));
  const changed = fromStageCsv('song_attributes', edited.toString('utf8'));
  expect(changed.find((r) => r.track_id === row!.track_id)?.popularity).toBe(
    String(Number(row!.popularity) + 11),
  );
  expect(edited.length).toBe(body.length);
  return edited;
};

const damages: readonly Damage[] = [
  { name: 'the chart CSV cut at a line boundary', key: (f) => f.chartCsv, damage: cutAtLine, kind: 'size' },
  { name: 'a part CSV cut mid-record', key: (f) => f.attributesCsv, damage: cutMidRecord, kind: 'size' },
  {
    name: '400 random bytes in a part CSV',
    key: (f) => f.artistsCsv,
    damage: randomBytesInside,
    kind: 'checksum',
  },
  {
    name: 'a popularity edited in range',
    key: (f) => f.attributesCsv,
    damage: editPopularity,
    kind: 'checksum',
  },
  { name: 'a part CSV deleted', key: (f) => f.artistsCsv, damage: () => undefined, kind: 'missing' },
  { name: 'the chart CSV deleted', key: (f) => f.chartCsv, damage: () => undefined, kind: 'missing' },
];

describe.skipIf(!available)(
  "A damaged lake on moto's S3: each replay refused, the file named, nothing staged",
  () => {
    let moto: Moto;
    let aws: AwsPipeline | undefined;
    /** The tests' own client, as another tool would write the bucket: S3's default checksums, no SHA-256. */
    let admin: S3Client;
    let files: DayFiles;
    let runId: string;
    /** Every raw object of the day, as the run wrote it. */
    const originals = new Map<string, Buffer>();
    let marts: Record<string, string[]>;

    const bodyOf = async (key: string): Promise<Buffer | undefined> => {
      try {
        const answer = await admin.send(new GetObjectCommand({ Bucket: aws!.resources.bucket, Key: key }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    };
    const rawKeys = async (): Promise<string[]> => {
      const keys: string[] = [];
      const prefixes = [
        ...datasets.map((dataset) => rawPrefix(dataset, day.chartDate, day.chartId)),
        ...stageTableNames.map((table) => tablePrefix(table, day.chartDate, day.chartId)),
      ];
      for (const Prefix of prefixes) {
        const { Contents = [] } = await admin.send(
          new ListObjectsV2Command({ Bucket: aws!.resources.bucket, Prefix }),
        );
        keys.push(...Contents.map((c) => c.Key!));
      }
      return keys.sort();
    };
    /** Writes (or deletes) a file as another tool would: a PutObject with the SDK's default checksum. */
    const write = async (key: string, body: Buffer | undefined, checksum?: 'SHA256') => {
      const Bucket = aws!.resources.bucket;
      if (body === undefined) await admin.send(new DeleteObjectCommand({ Bucket, Key: key }));
      else
        await admin.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body,
            ...(checksum ? { ChecksumAlgorithm: checksum } : {}),
          }),
        );
    };

    beforeAll(async () => {
      if (!(await postgresAvailable())) return;
      moto = await startMoto();
      admin = new S3Client(moto.clientConfig);
      aws = await AwsPipeline.start({ moto, label: 'e2e_aws_damaged' });
      const { runId: ran, records } = await aws.run(day);
      expect(records.map((r) => r.status)).toEqual(['succeeded']);
      runId = ran;
      marts = await martSnapshot(aws.warehouse);
      for (const key of await rawKeys()) originals.set(key, (await bodyOf(key))!);
      const keys = [...originals.keys()];
      files = {
        chartCsv: lakeKeys.chartCsv(day.chartDate, day.chartId),
        attributesCsv: keys.find((k) => k.startsWith('tables/song_attributes/'))!,
        artistsCsv: keys.find((k) => k.startsWith('tables/song_artists/'))!,
      };
      expect(Object.values(files).every((key) => originals.has(key))).toBe(true);
    }, 240_000);
    afterAll(async () => {
      await aws?.close();
      await moto?.stop();
    });

    it('ran the day once, to success, with marts of its 200 chart entries', (context) => {
      if (!aws) return context.skip();
      expect(marts.fct_chart_entries).toHaveLength(200);
      expect(aws.failures).toEqual([]);
    });

    for (const { name, key: keyOf, damage, kind } of damages) {
      it(`refuses a replay after ${name}: ${kind}, the file named and left as it is`, async (context) => {
        if (!aws) return context.skip();
        const key = keyOf(files);
        const damaged = damage(originals.get(key)!);
        await write(key, damaged);
        try {
          const before = new Set((await aws.store.list('control/runs/')).map((o) => o.key));
          const requestsBefore = aws.s3Requests.length;
          const { replay, records } = await aws.replay(day);
          // Replay announces the raw objects (the CSVs, under tables/, fire nothing).
          const raw = [...originals.keys()].filter((k) => k.startsWith('raw/'));
          expect(replay.objectsReplayed).toBe(
            raw.length - (damaged === undefined && raw.includes(key) ? 1 : 0),
          );

          // One load, refused: its record names exactly this file and how it differs.
          const added = records.filter(
            (r) => !before.has(lakeKeys.runRecord(r.chartDate, r.chartId, r.runId, r.loadId)),
          );
          expect(added).toHaveLength(1);
          const [refused] = added as [RunRecord];
          expect(refused).toMatchObject({ runId, status: 'not_loaded' });
          expect(refused.rows).toEqual({});
          expect(refused.damagedFiles).toEqual([{ key, kind, detail: expect.any(String) }]);
          expect(refused.reason).toContain(key);
          expect(refused.transform).toBeUndefined();

          // Nothing staged, the marts as the good run left them, and no function failed.
          expect(await stageRows(aws.warehouse)).toBe(0);
          expect(await martSnapshot(aws.warehouse)).toEqual(marts);
          expect(aws.failures).toEqual([]);
          expect(aws.invoker.failures).toEqual([]);

          // The damaged file is as it was damaged (or still gone); every other file as the run wrote it.
          for (const [other, body] of originals) {
            expect(await bodyOf(other), other).toEqual(other === key ? damaged : body);
          }
          expect(await rawKeys()).toEqual(
            [...originals.keys()].filter((k) => k !== key || damaged !== undefined),
          );

          // S3 answered with its checksums: no data file was downloaded but the damaged one (a chart
          // CSV is read to tell a later run's from damage; a file not yet replayed has no SHA-256).
          const requests = aws.s3Requests.slice(requestsBefore);
          const downloaded = requests.filter(
            (r) => r.command === 'GetObjectCommand' && r.key.endsWith('.csv'),
          );
          expect(downloaded.filter((r) => r.key !== key)).toEqual([]);
          expect(requests).toContainEqual({ command: 'HeadObjectCommand', key });
          const csvRequests = (command: string) =>
            requests.filter((r) => r.command === command && r.key.endsWith('.csv')).length;
          console.info(
            `${name}: refused (${kind}); CSV requests: HeadObject ${csvRequests('HeadObjectCommand')}, ` +
              `GetObject ${csvRequests('GetObjectCommand')}, CopyObject ${csvRequests('CopyObjectCommand')}`,
          );
        } finally {
          await write(key, originals.get(key), 'SHA256');
          await aws.idle();
        }
      }, 180_000);
    }

    it('loads the day again once every file is restored, to the same marts', async (context) => {
      if (!aws) return context.skip();
      const before = new Set((await aws.store.list('control/runs/')).map((o) => o.key));
      const requestsBefore = aws.s3Requests.length;
      const { records } = await aws.replay(day);
      const added = records.filter(
        (r) => !before.has(lakeKeys.runRecord(r.chartDate, r.chartId, r.runId, r.loadId)),
      );
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ runId, status: 'succeeded', rows: { chart_songs: 200 } });
      expect(added[0]!.damagedFiles).toBeUndefined();
      // Every CSV is read once, by COPY (Redshift's on AWS); the loader only asked S3 for its checksums.
      const csv = aws.s3Requests.slice(requestsBefore).filter((r) => r.key.endsWith('.csv'));
      const loaded = [...originals.keys()].filter((k) => k.endsWith('.csv')).length;
      expect(csv.filter((r) => r.command === 'GetObjectCommand')).toHaveLength(loaded);
      console.info(
        `restored: loaded; CSV requests: HeadObject ${csv.filter((r) => r.command === 'HeadObjectCommand').length}, ` +
          `GetObject ${csv.filter((r) => r.command === 'GetObjectCommand').length}`,
      );
      expect(await stageRows(aws.warehouse)).toBe(0);
      expect(await martSnapshot(aws.warehouse)).toEqual(marts);
      expect(aws.failures).toEqual([]);
    }, 180_000);

    it('loads a re-run of the day: the earlier run’s files, and its chart CSV rewritten, are not damage', async (context) => {
      if (!aws) return context.skip();
      const { runId: rerun, records } = await aws.run(day);
      expect(rerun).not.toBe(runId);
      expect(records.map((r) => [r.status, r.damagedFiles])).toEqual([['succeeded', undefined]]);
      expect(records[0]!.rows.chart_songs).toBe(200);
      expect(await stageRows(aws.warehouse)).toBe(0);
      expect(await martSnapshot(aws.warehouse)).toEqual(marts);
      expect(aws.failures).toEqual([]);
    }, 240_000);

    it("holds every request of the lake, refusals included, to its function's role in the compiled template", async (context) => {
      if (!aws) return context.skip();
      const { dir, template } = await packageServerless('test');
      try {
        const refused = aws.storeAccesses.filter(
          (access) => !roleAllows(template.Resources[access.role]!, access),
        );
        expect(refused).toEqual([]);
        // The loader's checksum requests (HeadObject, authorized by s3:GetObject) are among them.
        expect(aws.storeAccesses).toContainEqual({
          role: 'WarehouseRole',
          action: 's3:GetObject',
          key: files.chartCsv,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 300_000);
  },
);
