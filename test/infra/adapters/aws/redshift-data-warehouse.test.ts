import {
  ActiveStatementsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  ValidationException,
  type DescribeStatementResponse,
} from '@aws-sdk/client-redshift-data';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  copyOptions,
  RedshiftDataWarehouse,
} from '../../../../infra/adapters/aws/redshift-data-warehouse.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { stageDdl } from '../../../../infra/adapters/sql/stage-ddl.js';
import {
  ConfigError,
  InvalidRecordError,
  PermanentError,
  RetryableError,
} from '../../../../shared/errors.js';
import { lakeKeys } from '../../../../shared/lake/keys.js';
import { columnNames, type StageTableName } from '../../../../shared/records/stage-tables.js';
import type { ObjectStore } from '../../../../shared/ports/object-store.js';
import type { StageLoad, StageSlice } from '../../../../shared/ports/warehouse.js';
import { manualClock, type ManualClock } from '../../../shared/http/manual-clock.js';
import { createTestDatabase, postgresAvailable } from '../../../support/services.js';

const redshift = mockClient(RedshiftDataClient);
const client = new RedshiftDataClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

const role = 'arn:aws:iam::123456789012:role/chartflow-copy';
const runId = '20261121T060000000Z-9f2c4a1b';
const date = '2026-11-20';
const chart = 'global';

// The lake the manifests are written to: a real ObjectStore in a folder, fresh for every test.
let root: string;
let store: FsObjectStore;

const make = (clock: ManualClock = manualClock(), lake: ObjectStore = store) =>
  new RedshiftDataWarehouse({
    client,
    workgroupName: 'chartflow-dev',
    database: 'chartflow',
    bucket: 'chartflow-lake',
    store: lake,
    copyRoleArn: role,
    clock,
  });

const load = (overrides: Partial<StageLoad> = {}): StageLoad => ({
  runId,
  chartId: chart,
  chartDate: date,
  files: {
    chart_songs: [lakeKeys.chartCsv(date, chart)],
    song_attributes: [
      lakeKeys.attributesCsv(date, chart, 'part-aaaa'),
      lakeKeys.attributesCsv(date, chart, 'part-bbbb'),
    ],
    song_artists: [
      lakeKeys.artistsCsv(date, chart, 'part-aaaa'),
      lakeKeys.artistsCsv(date, chart, 'part-bbbb'),
    ],
  },
  ...overrides,
});

/** A finished batch whose sub-statements report these row counts. */
const finishedBatch = (id: string, rows: number[]): DescribeStatementResponse => ({
  Id: id,
  Status: 'FINISHED',
  SubStatements: rows.map((n, i) => ({ Id: `${id}:${i + 1}`, Status: 'FINISHED', ResultRows: n })),
});

const sliceWhere = `run_id = '${runId}' and chart_id = 'global' and chart_date = cast('2026-11-20' as date)`;
/** Written out rather than built with lakeKeys, so the test pins the key's shape. */
const manifestKey = (table: StageTableName) =>
  `control/copy-manifests/date=2026-11-20/chart=global/run=${runId}/${table}.manifest`;
const copy = (table: StageTableName, columns: string) =>
  `copy stage.${table} (${columns}) from 's3://chartflow-lake/${manifestKey(table)}' ` +
  `iam_role '${role}' manifest ${copyOptions}`;
const readManifest = async (table: StageTableName): Promise<unknown> => {
  const body = await store.get(manifestKey(table));
  return body === undefined ? undefined : JSON.parse(body.toString('utf8'));
};
const entries = (...keys: string[]) => ({
  entries: keys.map((key) => ({ url: `s3://chartflow-lake/${key}`, mandatory: true })),
});
const written = async () => (await store.list('')).map((o) => o.key);
const chartColumns =
  'chart_id, chart_date, run_id, extracted_at, position, track_id, track_name, artist_names, streams, source';
const artistColumns =
  'chart_id, chart_date, run_id, extracted_at, track_id, artist_position, artist_id, artist_name';

const sentBatches = () => redshift.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input);

beforeEach(async () => {
  redshift.reset();
  root = await mkdtemp(path.join(tmpdir(), 'chartflow-redshift-'));
  store = new FsObjectStore({ root, bucket: 'chartflow-lake' });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Class: RedshiftDataWarehouse', () => {
  describe('Method: loadStage', () => {
    it('writes a manifest per table, then sends one batch — per table, delete the slice then COPY its manifest', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
      // deletes report rows too (rows deleted): they must not count as loaded.
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('b1', [7, 50, 3, 80, 2, 52]));

      const counts = await make().loadStage(load());

      expect(counts).toEqual({ chart_songs: 50, song_attributes: 80, song_artists: 52 });
      const [batch, ...others] = sentBatches();
      expect(others).toEqual([]);
      expect(batch).toMatchObject({ WorkgroupName: 'chartflow-dev', Database: 'chartflow' });
      expect(batch).not.toHaveProperty('SecretArn');
      expect(batch).not.toHaveProperty('DbUser');
      const attributesColumns = columnNames('song_attributes').join(', ');
      expect(batch!.Sqls).toEqual([
        `delete from stage.chart_songs where ${sliceWhere}`,
        copy('chart_songs', chartColumns),
        `delete from stage.song_attributes where ${sliceWhere}`,
        copy('song_attributes', attributesColumns),
        `delete from stage.song_artists where ${sliceWhere}`,
        copy('song_artists', artistColumns),
      ]);
      // No COPY names a lake key: COPY reads a key as a prefix (chart_songs.csv.bak would load too).
      expect(batch!.Sqls!.join('\n')).not.toContain('/tables/');
      expect(batch!.Sqls!.join('\n')).not.toContain('/raw/');

      expect(await readManifest('chart_songs')).toEqual(
        entries('tables/chart_songs/date=2026-11-20/chart=global/chart_songs.csv'),
      );
      expect(await readManifest('song_attributes')).toEqual(
        entries(
          'tables/song_attributes/date=2026-11-20/chart=global/part-aaaa.csv',
          'tables/song_attributes/date=2026-11-20/chart=global/part-bbbb.csv',
        ),
      );
      expect(await readManifest('song_artists')).toEqual(
        entries(
          'tables/song_artists/date=2026-11-20/chart=global/part-aaaa.csv',
          'tables/song_artists/date=2026-11-20/chart=global/part-bbbb.csv',
        ),
      );
      // Only the three manifests, all outside raw/ (a write there would start a load).
      expect(await written()).toEqual(
        (['chart_songs', 'song_artists', 'song_attributes'] as const).map(manifestKey),
      );
    });

    it('still sends 6 statements for a day of many parts, its manifests naming every file', async () => {
      const parts = Array.from({ length: 60 }, (_, i) => `part-${String(i).padStart(4, '0')}`);
      const big = load({
        files: {
          chart_songs: [lakeKeys.chartCsv(date, chart)],
          song_attributes: parts.map((p) => lakeKeys.attributesCsv(date, chart, p)),
          song_artists: parts.map((p) => lakeKeys.artistsCsv(date, chart, p)),
        },
      });
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b8' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('b8', [0, 50, 0, 50, 0, 77]));

      expect(await make().loadStage(big)).toEqual({ chart_songs: 50, song_attributes: 50, song_artists: 77 });
      expect(sentBatches().map((b) => b.Sqls!.length)).toEqual([6]);
      expect(await readManifest('song_attributes')).toEqual(entries(...big.files.song_attributes));
      expect(await readManifest('song_artists')).toEqual(entries(...big.files.song_artists));
    });

    it('overwrites the manifests when the run’s load is tried again with more files', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b9' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('b9', [0, 1, 0, 1, 0, 1]));
      const first = load({
        files: {
          chart_songs: [lakeKeys.chartCsv(date, chart)],
          song_attributes: [lakeKeys.attributesCsv(date, chart, 'part-aaaa')],
          song_artists: [lakeKeys.artistsCsv(date, chart, 'part-aaaa')],
        },
      });
      await make().loadStage(first);
      await make().loadStage(load());
      expect(await readManifest('song_attributes')).toEqual(entries(...load().files.song_attributes));
      expect(await written()).toHaveLength(3);
    });

    it('deletes the slice from a table without files but COPYs nothing into it, and writes no manifest for it', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b10' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('b10', [4, 50, 9, 9]));
      const chartOnly = load({
        files: { chart_songs: [lakeKeys.chartCsv(date, chart)], song_attributes: [], song_artists: [] },
      });

      expect(await make().loadStage(chartOnly)).toEqual({
        chart_songs: 50,
        song_attributes: 0,
        song_artists: 0,
      });
      expect(sentBatches()[0]!.Sqls).toEqual([
        `delete from stage.chart_songs where ${sliceWhere}`,
        copy('chart_songs', chartColumns),
        `delete from stage.song_attributes where ${sliceWhere}`,
        `delete from stage.song_artists where ${sliceWhere}`,
      ]);
      expect(await written()).toEqual([manifestKey('chart_songs')]);
    });

    it('names a file once in a manifest even if the load lists it twice', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b11' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('b11', [0, 5, 0, 0]));
      const key = lakeKeys.chartCsv(date, chart);
      await make().loadStage(
        load({ files: { chart_songs: [key, key], song_attributes: [], song_artists: [] } }),
      );
      expect(await readManifest('chart_songs')).toEqual(entries(key));
    });

    it('sends nothing when a manifest cannot be written', async () => {
      const failing: ObjectStore = Object.assign(Object.create(store) as FsObjectStore, {
        put: () => Promise.reject(new RetryableError('S3 PutObject failed: SlowDown')),
      });
      await expect(make(manualClock(), failing).loadStage(load())).rejects.toThrow(/SlowDown/);
      expect(sentBatches()).toEqual([]);
    });

    it('reads the lake CSV as written (a header, strict dates, our timestamps, NULL as an empty cell), without analysing the stage', () => {
      expect(copyOptions).toBe(
        "FORMAT AS CSV IGNOREHEADER 1 DATEFORMAT 'YYYY-MM-DD' TIMEFORMAT 'auto' EMPTYASNULL COMPUPDATE OFF STATUPDATE OFF",
      );
    });

    it('counts sub-statements by their id suffix, whatever order DescribeStatement lists them in', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
      const described = finishedBatch('b1', [0, 5, 0, 4, 0, 3]);
      redshift
        .on(DescribeStatementCommand)
        .resolves({ ...described, SubStatements: described.SubStatements!.reverse() });
      const one = load({
        files: {
          chart_songs: [lakeKeys.chartCsv(date, chart)],
          song_attributes: [lakeKeys.attributesCsv(date, chart, 'part-aaaa')],
          song_artists: [lakeKeys.artistsCsv(date, chart, 'part-aaaa')],
        },
      });
      expect(await make().loadStage(one)).toEqual({ chart_songs: 5, song_attributes: 4, song_artists: 3 });
    });

    it('polls from 50 ms, doubling, while the batch is SUBMITTED, PICKED, STARTED', async () => {
      const clock = manualClock();
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
      redshift
        .on(DescribeStatementCommand)
        .resolvesOnce({ Id: 'b1', Status: 'SUBMITTED' })
        .resolvesOnce({ Id: 'b1', Status: 'PICKED' })
        .resolvesOnce({ Id: 'b1', Status: 'STARTED' })
        .resolves(finishedBatch('b1', [0, 1, 0, 2, 0, 2]));
      await make(clock).loadStage(load());
      expect(clock.sleeps).toEqual([50, 100, 200]);
      expect(redshift.commandCalls(DescribeStatementCommand).map((c) => c.args[0].input)).toEqual(
        Array(4).fill({ Id: 'b1' }),
      );
    });

    it('writes a key with Unicode, spaces and a quote into its manifest as it is, not URL-encoded', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b1' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('b1', [0, 1, 0, 0]));
      const key = "raw/chart_songs/date=2026-11-20/chart=global/Beyoncé's “hits” 👩‍🎤 a+b%20.csv";
      await make().loadStage(load({ files: { chart_songs: [key], song_attributes: [], song_artists: [] } }));
      expect(await readManifest('chart_songs')).toEqual(entries(key));
      expect(sentBatches()[0]!.Sqls![1]).toBe(copy('chart_songs', chartColumns));
    });

    it('refuses a run id that did not come through our schemas, and sends nothing', async () => {
      const hostile = load({ runId: "x'; drop table stage.chart_songs; --" });
      await expect(make().loadStage(hostile)).rejects.toThrow(InvalidRecordError);
      await expect(make().loadStage(hostile)).rejects.toThrow(
        /refusing to embed .* as a runId: not a run id/,
      );
      expect(sentBatches()).toEqual([]);
      expect(await written()).toEqual([]);
    });

    it('refuses a key outside the lake’s tables and raw data, even one that looks harmless', async () => {
      const key = "control/claims/x.csv' iam_role 'arn:aws:iam::999999999999:role/evil";
      await expect(
        make().loadStage(load({ files: { chart_songs: [key], song_attributes: [], song_artists: [] } })),
      ).rejects.toThrow(/as a lakeKey: not a table or raw lake key/);
      expect(sentBatches()).toEqual([]);
      expect(await written()).toEqual([]);
    });

    it('names the failed COPY of a batch — its table, manifest and files — and gives Redshift’s message, as a permanent error', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b2' });
      const message =
        "Load into table 'song_attributes' failed. Check 'sys_load_error_detail' system table for details.";
      redshift.on(DescribeStatementCommand).resolves({
        Id: 'b2',
        Status: 'FAILED',
        Error: `ERROR: ${message}`,
        SubStatements: [
          { Id: 'b2:1', Status: 'FINISHED', ResultRows: 0 },
          { Id: 'b2:2', Status: 'FINISHED', ResultRows: 50 },
          { Id: 'b2:3', Status: 'FINISHED', ResultRows: 0 },
          { Id: 'b2:4', Status: 'FAILED', Error: message },
          { Id: 'b2:5', Status: 'ABORTED' },
          { Id: 'b2:6', Status: 'ABORTED' },
        ],
      });
      const failure = await make()
        .loadStage(load())
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(PermanentError);
      expect((failure as Error).message).toBe(
        `load of global 2026-11-20 (run ${runId}) failed at COPY stage.song_attributes from manifest ` +
          `s3://chartflow-lake/${manifestKey('song_attributes')} (2 files: ` +
          'tables/song_attributes/date=2026-11-20/chart=global/part-aaaa.csv, ' +
          'tables/song_attributes/date=2026-11-20/chart=global/part-bbbb.csv): ' +
          `${message} (statement b2:4)`,
      );
    });

    it('names at most three files of a failed COPY', async () => {
      const parts = ['part-0001', 'part-0002', 'part-0003', 'part-0004', 'part-0005'];
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b12' });
      redshift.on(DescribeStatementCommand).resolves({
        Id: 'b12',
        Status: 'FAILED',
        SubStatements: [
          { Id: 'b12:1', Status: 'FINISHED' },
          { Id: 'b12:2', Status: 'FINISHED' },
          { Id: 'b12:3', Status: 'FINISHED' },
          { Id: 'b12:4', Status: 'FAILED', Error: 'Manifest file is not in correct json format' },
        ],
      });
      const many = load({
        files: { ...load().files, song_attributes: parts.map((p) => lakeKeys.attributesCsv(date, chart, p)) },
      });
      await expect(make().loadStage(many)).rejects.toThrow(
        /song_attributes\.manifest \(5 files: .*part-0001.*part-0002.*part-0003\.csv and 2 more\): Manifest file/,
      );
    });

    it('makes a serializable isolation violation (a concurrent load) retryable', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b3' });
      redshift.on(DescribeStatementCommand).resolves({
        Id: 'b3',
        Status: 'FAILED',
        Error:
          'ERROR: 1023 DETAIL: Serializable isolation violation on table - 123456, transactions forming the cycle are: 1, 2',
        SubStatements: [
          {
            Id: 'b3:1',
            Status: 'FAILED',
            Error: 'ERROR: 1023 DETAIL: Serializable isolation violation on table',
          },
        ],
      });
      const failure = await make()
        .loadStage(load())
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RetryableError);
      expect((failure as Error).message).toMatch(
        /failed at delete global 2026-11-20 .* from stage\.chart_songs: .*Serializable/,
      );
    });

    it('throws a retryable error naming the statement when Redshift aborts it', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b4' });
      redshift
        .on(DescribeStatementCommand)
        .resolves({ Id: 'b4', Status: 'ABORTED', Error: 'Query cancelled.' });
      await expect(make().loadStage(load())).rejects.toThrow(
        new RetryableError(
          `load of global 2026-11-20 (run ${runId}): Redshift aborted statement b4: Query cancelled.`,
        ),
      );
    });

    it('gives up after the timeout: cancels the statement and throws a retryable error naming it', async () => {
      const clock = manualClock();
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b5' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'b5', Status: 'STARTED' });
      redshift.on(CancelStatementCommand).resolves({ Status: true });
      const warehouse = new RedshiftDataWarehouse({
        client,
        workgroupName: 'chartflow-dev',
        database: 'chartflow',
        bucket: 'chartflow-lake',
        store,
        copyRoleArn: role,
        clock,
        polling: { firstDelayMs: 50, maxDelayMs: 2_000, timeoutMs: 10_000 },
      });
      const failure = await warehouse.loadStage(load()).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RetryableError);
      expect((failure as Error).message).toMatch(/statement b5 still STARTED after 10000 ms; cancelled/);
      expect(clock.sleeps).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 850]);
      expect(clock.sleeps.reduce((a, b) => a + b)).toBe(10_000);
      expect(redshift.commandCalls(CancelStatementCommand).map((c) => c.args[0].input)).toEqual([
        { Id: 'b5' },
      ]);
    });

    it('makes throttling of the Data API retryable', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
      redshift.on(BatchExecuteStatementCommand).rejects(throttled);
      await expect(make().loadStage(load())).rejects.toThrow(
        /load of global .* failed: ThrottlingException \(HTTP 400\): Rate exceeded/,
      );
      await expect(make().loadStage(load())).rejects.toThrow(RetryableError);
    });

    it('makes "too many active statements" retryable, though the Data API calls it a client fault', async () => {
      redshift
        .on(BatchExecuteStatementCommand)
        .rejects(
          new ActiveStatementsExceededException({ $metadata: { httpStatusCode: 400 }, message: 'too many' }),
        );
      const failure = await make()
        .loadStage(load())
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RetryableError);
      expect((failure as Error).message).toMatch(
        /load of global .* failed: ActiveStatementsExceededException: too many/,
      );
    });

    it('makes a validation error permanent', async () => {
      redshift
        .on(BatchExecuteStatementCommand)
        .rejects(
          new ValidationException({ $metadata: { httpStatusCode: 400 }, message: 'workgroup not found' }),
        );
      const failure = await make()
        .loadStage(load())
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(PermanentError);
      expect(failure).not.toBeInstanceOf(RetryableError);
      expect((failure as Error).message).toMatch(/ValidationException \(HTTP 400\): workgroup not found/);
    });

    it('makes a 5xx while polling retryable, naming the statement', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b6' });
      redshift.on(DescribeStatementCommand).rejects(
        Object.assign(new Error('Service Unavailable'), {
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        }),
      );
      const failure = await make()
        .loadStage(load())
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RetryableError);
      expect((failure as Error).message).toMatch(
        /DescribeStatement b6 failed: .*\(HTTP 503\): Service Unavailable/,
      );
    });

    it('fails loudly when Redshift reports no row count for a COPY', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b7' });
      redshift.on(DescribeStatementCommand).resolves({
        ...finishedBatch('b7', [0, 1, 0, 1, 0, 1]),
        SubStatements: finishedBatch('b7', [0, 1, 0, 1, 0, 1]).SubStatements!.map((s, i) =>
          i === 1 ? { ...s, ResultRows: -1 } : s,
        ),
      });
      await expect(make().loadStage(load())).rejects.toThrow(
        /no row count for COPY stage\.chart_songs from manifest .*chart_songs\.manifest/,
      );
    });
  });

  describe('Method: query', () => {
    it("lets the Data API bind the parameters, as strings, and writes only NULL and '' into the text", async () => {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q1' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'q1', Status: 'FINISHED', HasResultSet: false });
      const rows = await make().query(
        `select 1 from stage.chart_songs where run_id = :r and position > :n and is_x = :flag
         and a = :empty and b is not distinct from :nothing and c = :r and d = 'it'':s' and e = x::date`,
        { r: "x' or '1'='1", n: 2.5, flag: true, empty: '', nothing: null },
      );
      expect(rows).toEqual([]);
      expect(redshift.commandCalls(GetStatementResultCommand)).toEqual([]);
      const [call] = redshift.commandCalls(ExecuteStatementCommand);
      expect(call!.args[0].input).toEqual({
        WorkgroupName: 'chartflow-dev',
        Database: 'chartflow',
        Sql: `select 1 from stage.chart_songs where run_id = :r and position > :n and is_x = :flag
         and a = '' and b is not distinct from null and c = :r and d = 'it'':s' and e = x::date`,
        Parameters: [
          { name: 'r', value: "x' or '1'='1" },
          { name: 'n', value: '2.5' },
          { name: 'flag', value: 'true' },
        ],
      });
    });

    it('sends no Parameters for a statement without any, and names a missing one', async () => {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q2' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'q2', Status: 'FINISHED', HasResultSet: false });
      await make().query('select 1');
      expect(redshift.commandCalls(ExecuteStatementCommand)[0]!.args[0].input).not.toHaveProperty(
        'Parameters',
      );
      await expect(make().query('select :missing as x')).rejects.toThrow(/:missing/);
    });

    it('reads every page and answers in plain values: numbers, booleans, NULL, dates and ISO timestamps', async () => {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q3' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'q3', Status: 'FINISHED', HasResultSet: true });
      const columns = [
        { name: 'chart_date', label: 'chart_date', typeName: 'date' },
        { name: 'extracted_at', label: 'extracted_at', typeName: 'timestamp' },
        { name: 'at_zoned', label: 'at_zoned', typeName: 'timestamptz' },
        { name: 'n', label: 'n', typeName: 'int8' },
        { name: 'total', label: 'total', typeName: 'numeric' },
        { name: 'mean', label: 'mean', typeName: 'float8' },
        { name: 'is_explicit', label: 'is_explicit', typeName: 'bool' },
        { name: 'track_name', label: 'track_name', typeName: 'varchar' },
      ];
      redshift
        .on(GetStatementResultCommand, { Id: 'q3' })
        .resolvesOnce({
          ColumnMetadata: columns,
          TotalNumRows: 2,
          NextToken: 'page-2',
          Records: [
            [
              { stringValue: '2026-11-20' },
              { stringValue: '2026-11-21 06:00:00' },
              { stringValue: '2026-11-21 07:00:00.5+01' },
              { longValue: 9 },
              { stringValue: '45' },
              { doubleValue: 5 },
              { booleanValue: true },
              { stringValue: 'She said "hi"' },
            ],
          ],
        })
        .resolvesOnce({
          ColumnMetadata: columns,
          TotalNumRows: 2,
          Records: [
            [
              { stringValue: '2026-11-21' },
              { stringValue: '2026-11-22 06:00:00.123456' },
              { isNull: true },
              { longValue: 0 },
              { isNull: true },
              { doubleValue: 0.25 },
              { booleanValue: false },
              { stringValue: '' },
            ],
          ],
        });

      const rows = await make().query('select …');

      expect(rows).toEqual([
        {
          chart_date: '2026-11-20',
          extracted_at: '2026-11-21T06:00:00.000Z',
          at_zoned: '2026-11-21T06:00:00.500Z',
          n: 9,
          total: 45,
          mean: 5,
          is_explicit: true,
          track_name: 'She said "hi"',
        },
        {
          chart_date: '2026-11-21',
          extracted_at: '2026-11-22T06:00:00.123Z',
          at_zoned: null,
          n: 0,
          total: null,
          mean: 0.25,
          is_explicit: false,
          track_name: '',
        },
      ]);
      expect(redshift.commandCalls(GetStatementResultCommand).map((c) => c.args[0].input)).toEqual([
        { Id: 'q3' },
        { Id: 'q3', NextToken: 'page-2' },
      ]);
    });

    it('refuses a field of no known kind rather than guessing', async () => {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q4' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'q4', Status: 'FINISHED', HasResultSet: true });
      redshift.on(GetStatementResultCommand).resolves({
        ColumnMetadata: [{ name: 'x', label: 'x', typeName: 'geometry' }],
        Records: [[{ $unknown: ['geoValue', {}] } as never]],
      });
      await expect(make().query('select x')).rejects.toThrow(/column x: a field of no known kind/);
    });

    it('throws a FAILED query as a permanent error with the query and Redshift’s message', async () => {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q5' });
      redshift.on(DescribeStatementCommand).resolves({
        Id: 'q5',
        Status: 'FAILED',
        Error: 'ERROR: relation "stage.chart_songz" does not exist',
      });
      const failure = await make()
        .query('select count(*)  as n\n from stage.chart_songz')
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(PermanentError);
      expect((failure as Error).message).toBe(
        'Redshift query "select count(*) as n from stage.chart_songz" failed: ' +
          'ERROR: relation "stage.chart_songz" does not exist (statement q5)',
      );
    });

    it('refuses an answer it cannot read (an unknown status)', async () => {
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'q6' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'q6', Status: 'ALL' });
      await expect(make().query('select 1')).rejects.toThrow(
        /DescribeStatement q6: unexpected answer: ✖ Invalid option: .* → at Status$/,
      );
    });
  });

  describe('Method: ensureStage', () => {
    it('creates the stage in one batch of the Redshift DDL, once per instance', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'd1' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('d1', [0, 0, 0, 0]));
      const warehouse = make();
      await warehouse.ensureStage();
      await warehouse.ensureStage();
      expect(sentBatches().map((b) => b.Sqls)).toEqual([stageDdl('redshift')]);
    });

    it('tries again on the next call when creating the stage failed (a concurrent creation: retryable)', async () => {
      const raced = 'ERROR: duplicate key value violates unique constraint "pg_type_typname_nsp_index"';
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'd2' });
      redshift
        .on(DescribeStatementCommand)
        .resolvesOnce({
          Id: 'd2',
          Status: 'FAILED',
          Error: raced,
          SubStatements: [
            { Id: 'd2:1', Status: 'FINISHED' },
            { Id: 'd2:2', Status: 'FAILED', Error: raced },
          ],
        })
        .resolves(finishedBatch('d2', [0, 0, 0, 0]));
      const warehouse = make();
      const failure = await warehouse.ensureStage().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RetryableError);
      expect((failure as Error).message).toBe(
        `create the stage failed at create table if not exists stage.chart_songs: ${raced} (statement d2:2)`,
      );
      await warehouse.ensureStage();
      await warehouse.ensureStage();
      expect(sentBatches()).toHaveLength(2);
    });
  });

  describe('Method: cleanStage', () => {
    const slices: StageSlice[] = [
      { runId, chartId: 'global', chartDate: '2026-11-20' },
      { runId: '20261122T060000000Z-0000aaaa', chartId: 'top-50-fr', chartDate: '2026-11-21' },
    ];

    it('deletes the slices from every table in one batch, values embedded as checked literals', async () => {
      redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'c1' });
      redshift.on(DescribeStatementCommand).resolves(finishedBatch('c1', [3, 3, 3]));
      await make().cleanStage(slices);
      const where =
        `(run_id = '${runId}' and chart_id = 'global' and chart_date = cast('2026-11-20' as date)) or ` +
        "(run_id = '20261122T060000000Z-0000aaaa' and chart_id = 'top-50-fr' and chart_date = cast('2026-11-21' as date))";
      expect(sentBatches().map((b) => b.Sqls)).toEqual([
        ['chart_songs', 'song_attributes', 'song_artists'].map(
          (t) => `delete from stage.${t} where ${where}`,
        ),
      ]);
    });

    it('sends nothing for no slices, and splits past 40 statements into batches in turn', async () => {
      await make().cleanStage([]);
      expect(sentBatches()).toEqual([]);

      redshift.on(BatchExecuteStatementCommand).resolvesOnce({ Id: 'c2' }).resolves({ Id: 'c3' });
      redshift.on(DescribeStatementCommand, { Id: 'c2' }).resolves(finishedBatch('c2', Array(40).fill(0)));
      redshift.on(DescribeStatementCommand, { Id: 'c3' }).resolves(finishedBatch('c3', [0, 0]));
      const many = Array.from({ length: 1_400 }, (_, i) => ({
        runId: `20261122T060000000Z-${String(i).padStart(8, '0')}`,
        chartId: 'global',
        chartDate: '2026-11-20',
      }));
      await make().cleanStage(many);
      expect(sentBatches().map((b) => b.Sqls!.length)).toEqual([40, 2]);
    });

    it('refuses a slice whose chart id did not come through our schemas', async () => {
      await expect(
        make().cleanStage([{ runId, chartId: "global') or (1=1", chartDate: '2026-11-20' }]),
      ).rejects.toThrow(/as a chartId: a chart id is lowercase letters, digits and -/);
      expect(sentBatches()).toEqual([]);
    });
  });

  describe('Constructor', () => {
    it('refuses a COPY role that is not a role ARN, at once', () => {
      expect(
        () =>
          new RedshiftDataWarehouse({
            client,
            workgroupName: 'w',
            database: 'd',
            bucket: 'chartflow-lake',
            store,
            copyRoleArn: "arn:aws:iam::123456789012:role/x' credentials 'y",
          }),
      ).toThrow(ConfigError);
      expect(
        () =>
          new RedshiftDataWarehouse({
            client,
            workgroupName: '',
            database: 'd',
            bucket: 'b-b',
            store,
            copyRoleArn: role,
          }),
      ).toThrow(
        /RedshiftDataWarehouse options: ✖ the Redshift Serverless workgroup name is required → at workgroupName$/,
      );
      expect(
        () =>
          new RedshiftDataWarehouse({
            client,
            workgroupName: 'w',
            database: 'd',
            bucket: 'b-b',
            store: undefined as unknown as ObjectStore,
            copyRoleArn: role,
          }),
      ).toThrow(/^RedshiftDataWarehouse options: ✖ must be an ObjectStore .* → at store$/);
    });
  });
});

const available = await postgresAvailable();

describe.skipIf(!available)('RedshiftDataWarehouse SQL on a real PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('redshift_sql');
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  const capture = async (work: (w: RedshiftDataWarehouse) => Promise<unknown>, rows: number[]) => {
    redshift.reset();
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'pg' });
    redshift.on(DescribeStatementCommand).resolves(finishedBatch('pg', rows));
    await work(make());
    return sentBatches().flatMap((b) => b.Sqls ?? []);
  };

  const insertRow = (slice: StageSlice) =>
    db.query(
      `insert into stage.chart_songs (chart_id, chart_date, run_id, extracted_at, position, track_id, track_name, artist_names, source)
       values ($1, $2, $3, '2026-11-21 06:00:00', 1, 't', 'n', 'a', 's')`,
      [slice.chartId, slice.chartDate, slice.runId],
    );

  it('runs the stage DDL, the load’s deletes and the clean-up’s deletes as valid SQL that touch only their slices', async () => {
    for (const sql of await capture((w) => w.ensureStage(), [0, 0, 0, 0])) await db.query(sql);
    // Twice: `if not exists` holds.
    for (const sql of await capture((w) => w.ensureStage(), [0, 0, 0, 0])) await db.query(sql);

    const kept = { runId: '20261120T060000000Z-keep0000', chartId: 'global', chartDate: '2026-11-20' };
    const loaded = { runId, chartId: 'global', chartDate: '2026-11-20' };
    const other = { runId, chartId: 'global', chartDate: '2026-11-21' };
    for (const slice of [kept, loaded, other]) await insertRow(slice);

    const loadSql = await capture((w) => w.loadStage(load()), [1, 0, 0, 0, 0, 0]);
    // COPY FROM s3 cannot run here; the deletes can, and must remove exactly the loaded slice.
    for (const sql of loadSql.filter((s) => s.startsWith('delete '))) await db.query(sql);
    const afterLoad = await db.query(
      'select run_id, chart_date::text as d from stage.chart_songs order by 1, 2',
    );
    expect(afterLoad.rows).toEqual([
      { run_id: kept.runId, d: '2026-11-20' },
      { run_id: runId, d: '2026-11-21' },
    ]);

    for (const sql of await capture((w) => w.cleanStage([other, kept]), [1, 0, 0])) await db.query(sql);
    expect((await db.query('select count(*)::int as n from stage.chart_songs')).rows).toEqual([{ n: 0 }]);
  });

  it('writes the manifest’s URI as a literal that reads back as it', async () => {
    const [, copySql] = await capture((w) => w.loadStage(load()), [0, 1, 0, 1, 0, 1]);
    const literal = /from ('(?:[^']|'')*') iam_role/.exec(copySql!)![1]!;
    const { rows } = await db.query(`select ${literal} as uri`);
    expect(rows).toEqual([{ uri: `s3://chartflow-lake/${manifestKey('chart_songs')}` }]);
  });
});
