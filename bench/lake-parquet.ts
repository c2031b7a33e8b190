import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify, parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import * as z from 'zod';
import { daysBetween } from '../infra/local/cli/commands/backfill.js';
import { stageDdl } from '../infra/adapters/sql/stage-ddl.js';
import { logger } from '../shared/logger.js';
import { fromStageCsv } from '../shared/records/csv.js';
import { stageTables, type StageTableName } from '../shared/records/stage-tables.js';
import { lambdaZipBudgetBytes } from './budgets.js';
import { median } from './measure.js';
import { dayAfter, liftedLimit, seconds, table, withPipeline } from './pipeline.js';

/**
 * Issue 18, part 5: what the lake's normalised files (the stage CSVs) would cost as Parquet with
 * zstd, measured on a sandbox lake; docs/lake.md ("Parquet, measured") has the figures and the decision.
 *
 *   POWERTOOLS_LOG_LEVEL=WARN npx tsx bench/lake-parquet.ts [--days 60] [--runs 9] [--lake DIR] [--writers DIR]
 *
 * - Without `--lake`, backfills `--days` sandbox days (the global chart, 200 entries a day, rate
 *   limits lifted) in a home of its own and keeps a copy of the normalised files; `--lake` takes a
 *   lake folder instead (a home's `lake/`, with `raw/` under it).
 * - Every normalised file is written again, file for file as the lake has them: gzipped (zlib's
 *   default level), and as Parquet (DuckDB's `COPY … TO … (FORMAT parquet, COMPRESSION zstd)` from
 *   the stage table the CSV loads into, so with the stage's types).
 * - Loads every day into DuckDB stage tables (a database file, one thread, as the embedded
 *   warehouse opens it), each day in one transaction: the CSVs and the gzipped CSVs with the
 *   warehouse's own COPY options, the Parquet files with `read_parquet`; `--runs` timed runs of each
 *   after one untimed, the formats taking turns first, each run checked for its row counts.
 * - Works out what Athena would scan for two typical queries, from the files' sizes (a text file is
 *   read whole) and the Parquet column chunks' compressed sizes (`parquet_metadata`).
 * - With `--writers DIR` (a folder outside the repo where the candidates are installed with npm:
 *   docs/lake.md says which), bundles a tiny handler per candidate writer or reader as
 *   serverless.yml bundles a function (esbuild, minified, ESM for node22), zips it, runs it once on
 *   Node 22 (the npm package `node@22`) and reads what it wrote back with DuckDB, codec included;
 *   then bundles the functions that would carry hyparquet, without and with it.
 */
const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

const options = z
  .object({
    days: z.coerce.number().int().min(1).max(400).default(60),
    runs: z.coerce.number().int().min(1).max(50).default(9),
    lake: z.string().min(1).optional(),
    writers: z.string().min(1).optional(),
  })
  .parse(
    parseArgs({
      options: {
        days: { type: 'string' },
        runs: { type: 'string' },
        lake: { type: 'string' },
        writers: { type: 'string' },
      },
    }).values,
  );

if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');

type Format = 'csv' | 'csv.gz' | 'parquet';

const formats: readonly Format[] = ['csv', 'csv.gz', 'parquet'];

/** One normalised file of the lake. */
interface LakeFile {
  readonly table: StageTableName;
  readonly day: string;
  /** Its key under the lake's root. */
  readonly key: string;
  readonly csvBytes: number;
  gzipBytes: number;
  parquetBytes: number;
  /** Parquet: the compressed size of each column's chunks. */
  columnBytes: Record<string, number>;
  /** Its rows, as its stage table loads them. */
  rows: number;
}

/**
 * The normalised files in either layout (shared/lake/keys.ts): a folder per dataset under `tables/`
 * (`tables/<table>/date=D/chart=C/<name>.csv`), or, as lakes before it were written, beside the raw
 * answers (`raw/<dataset>/date=D/chart=C/chart_songs.csv`, `<part>.song_attributes.csv`,
 * `<part>.song_artists.csv`).
 */
const tablesLayout =
  /^tables\/(chart_songs|song_attributes|song_artists)\/date=(\d{4}-\d{2}-\d{2})\/chart=[^/]+\/[^/]+\.csv$/;
const legacyLayout =
  /^raw\/(?:chart_songs|song_attributes)\/date=(\d{4}-\d{2}-\d{2})\/chart=[^/]+\/(?:.+\.)?(chart_songs|song_attributes|song_artists)\.csv$/;

/** The stage table and the day of a normalised file's key; `undefined` for any other key. */
const normalisedFile = (key: string): { table: StageTableName; day: string } | undefined => {
  const tables = tablesLayout.exec(key);
  if (tables) return { table: tables[1] as StageTableName, day: tables[2]! };
  const legacy = legacyLayout.exec(key);
  return legacy ? { table: legacy[2] as StageTableName, day: legacy[1]! } : undefined;
};

const tableNames = Object.keys(stageTables) as StageTableName[];

/** Every file under `dir`, as paths relative to it with `/`. */
const walk = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));

/** Copies a lake's normalised files into `into` (same keys); returns their keys. */
const copyNormalised = async (lakeRoot: string, into: string): Promise<string[]> => {
  const keys = (await walk(lakeRoot)).filter((key) => normalisedFile(key) !== undefined).sort();
  if (keys.length === 0) throw new Error(`no normalised files under ${lakeRoot}`);
  for (const key of keys) {
    await mkdir(path.dirname(path.join(into, key)), { recursive: true });
    await copyFile(path.join(lakeRoot, key), path.join(into, key));
  }
  return keys;
};

/** A SQL string literal of a path we made ourselves (DuckDB's COPY takes no bound file name). */
const literal = (file: string): string => `'${file.replaceAll("'", "''")}'`;

/** The embedded warehouse's COPY options for a stage CSV (infra/adapters/embedded/duckdb-warehouse.ts). */
const csvCopyOptions = `(format csv, header true, delimiter ',', quote '"', escape '"', null '', allow_quoted_nulls false)`;

const loadStatement = (format: Format, tableName: StageTableName, file: string): string =>
  format !== 'parquet'
    ? `copy stage.${tableName} from ${literal(file)} ${csvCopyOptions}`
    : // The lake's keys hold date=…/chart=… folders: DuckDB would add them as columns (hive partitions).
      `insert into stage.${tableName} select * from read_parquet(${literal(file)}, hive_partitioning = false)`;

const kb = (bytes: number) => (bytes / 1000).toFixed(1);
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
const ms = (value: number) => value.toFixed(1);
const ratio = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)}%`;

/** A candidate handler: what it imports to write a Parquet file, and which codec it writes. */
interface Writer {
  readonly name: string;
  readonly codec: string;
  readonly source: string;
  /** Files the bundle needs beside it (a wasm module the package reads from its own folder), under node_modules. */
  readonly assets?: readonly string[];
}

/**
 * The reader a switch would also need where a Lambda reads the normalised files back (the stage
 * loader's completeness check, track-attributes' parts): hyparquet, with node:zlib's zstd.
 */
const readerSource = `import { parquetReadObjects } from 'hyparquet';
import { zstdDecompressSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
export const handler = async (event) => {
  const bytes = await readFile(event.parquetFile);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = await parquetReadObjects({ file, compressors: { ZSTD: (input) => new Uint8Array(zstdDecompressSync(input)) } });
  return { rows: rows.length };
};`;

/**
 * Each handler takes `{ columns: { name: values[] } }` (text, numbers, nulls) and answers the
 * Parquet file's bytes in base64. The baseline answers the columns' count only: the difference
 * between its zip and a writer's is what the writer adds.
 */
const candidates: readonly Writer[] = [
  {
    name: 'baseline (no writer)',
    codec: '-',
    source: `export const handler = async (event) => ({ columns: Object.keys(event.columns).length });`,
  },
  {
    name: 'hyparquet-writer, its own snappy',
    codec: 'SNAPPY',
    source: `import { parquetWriteBuffer } from 'hyparquet-writer';
export const handler = async (event) => {
  const bytes = parquetWriteBuffer({ columnData: Object.entries(event.columns).map(([name, data]) => ({ name, data })) });
  return Buffer.from(bytes).toString('base64');
};`,
  },
  {
    name: "hyparquet-writer + node:zlib's zstd (Node >= 22.15)",
    codec: 'ZSTD',
    source: `import { parquetWriteBuffer } from 'hyparquet-writer';
import { zstdCompressSync } from 'node:zlib';
export const handler = async (event) => {
  const bytes = parquetWriteBuffer({
    columnData: Object.entries(event.columns).map(([name, data]) => ({ name, data })),
    codec: 'ZSTD',
    compressors: { ZSTD: (input) => new Uint8Array(zstdCompressSync(input)) },
  });
  return Buffer.from(bytes).toString('base64');
};`,
  },
  {
    name: 'hyparquet-writer + @bokuweb/zstd-wasm',
    codec: 'ZSTD',
    assets: ['@bokuweb/zstd-wasm/dist/common/zstd.wasm'],
    source: `import { parquetWriteBuffer } from 'hyparquet-writer';
import { init, compress } from '@bokuweb/zstd-wasm';
await init();
export const handler = async (event) => {
  const bytes = parquetWriteBuffer({
    columnData: Object.entries(event.columns).map(([name, data]) => ({ name, data })),
    codec: 'ZSTD',
    compressors: { ZSTD: (input) => compress(input, 3) },
  });
  return Buffer.from(bytes).toString('base64');
};`,
  },
  {
    name: 'hyparquet-writer + zstd-codec',
    codec: 'ZSTD',
    source: `import { parquetWriteBuffer } from 'hyparquet-writer';
import { ZstdCodec } from 'zstd-codec';
const simple = await new Promise((resolve) => ZstdCodec.run((zstd) => resolve(new zstd.Simple())));
export const handler = async (event) => {
  const bytes = parquetWriteBuffer({
    columnData: Object.entries(event.columns).map(([name, data]) => ({ name, data })),
    codec: 'ZSTD',
    compressors: { ZSTD: (input) => simple.compress(input, 3) },
  });
  return Buffer.from(bytes).toString('base64');
};`,
  },
  {
    name: '@dsnp/parquetjs, gzip (it has no zstd)',
    codec: 'GZIP',
    source: `import { ParquetSchema, ParquetWriter } from '@dsnp/parquetjs';
import { Writable } from 'node:stream';
export const handler = async (event) => {
  const names = Object.keys(event.columns);
  const schema = new ParquetSchema(Object.fromEntries(names.map((name) => {
    const numeric = event.columns[name].some((v) => typeof v === 'number');
    return [name, { type: numeric ? 'DOUBLE' : 'UTF8', optional: true, compression: 'GZIP' }];
  })));
  const chunks = [];
  const sink = new Writable({ write(chunk, _e, done) { chunks.push(Buffer.from(chunk)); done(); } });
  const writer = await ParquetWriter.openStream(schema, sink);
  const count = event.columns[names[0]].length;
  for (let i = 0; i < count; i++) {
    const row = {};
    for (const name of names) if (event.columns[name][i] !== null) row[name] = event.columns[name][i];
    await writer.appendRow(row);
  }
  await writer.close();
  return Buffer.concat(chunks).toString('base64');
};`,
  },
  {
    name: 'parquet-wasm + apache-arrow (its wasm file beside the bundle)',
    codec: 'ZSTD',
    assets: ['parquet-wasm/esm/parquet_wasm_bg.wasm'],
    source: `import { tableFromArrays, tableToIPC } from 'apache-arrow';
import initWasm, { Table, writeParquet, WriterPropertiesBuilder, Compression } from 'parquet-wasm/esm';
import { readFile } from 'node:fs/promises';
await initWasm({ module_or_path: await readFile(new URL('./parquet_wasm_bg.wasm', import.meta.url)) });
export const handler = async (event) => {
  const arrow = tableFromArrays(Object.fromEntries(Object.entries(event.columns).map(([name, data]) =>
    [name, data.some((v) => typeof v === 'number') ? Float64Array.from(data, (v) => v ?? NaN) : data.map((v) => v ?? '')])));
  const properties = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build();
  const bytes = writeParquet(Table.fromIPCStream(tableToIPC(arrow, 'stream')), properties);
  return Buffer.from(bytes).toString('base64');
};`,
  },
  {
    name: "hyparquet (reader) + node:zlib's zstd, reading DuckDB's file",
    codec: 'ZSTD',
    source: readerSource,
  },
];

/** The Lambda functions that write or read the normalised files, and what a switch adds to each. */
const functionsTouched = [
  { name: 'chartFetch', file: 'chart-fetch.ts', adds: 'writer' },
  { name: 'trackAttributes', file: 'track-attributes.ts', adds: 'writer and reader' },
  { name: 'stageLoader', file: 'stage-loader.ts', adds: 'reader' },
] as const;

const writerExport = `import { parquetWriteBuffer } from 'hyparquet-writer';
import { zstdCompressSync } from 'node:zlib';
export const writeParquet = (columns) => parquetWriteBuffer({
  columnData: Object.entries(columns).map(([name, data]) => ({ name, data })),
  codec: 'ZSTD',
  compressors: { ZSTD: (input) => new Uint8Array(zstdCompressSync(input)) },
});`;

const readerExport = `import { parquetReadObjects } from 'hyparquet';
import { zstdDecompressSync } from 'node:zlib';
export const readParquet = (file) => parquetReadObjects({ file, compressors: { ZSTD: (input) => new Uint8Array(zstdDecompressSync(input)) } });`;

/** The esbuild options of serverless.yml's `custom.esbuild` (its plugin added where the bundle has our code). */
const lambdaBuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'node22',
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  logLevel: 'silent',
} as const satisfies BuildOptions;

const lambdaBanner =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** The Node.js of the Lambda runtime (nodejs22.x), from the npm package `node@22`, as bench/lambda-bundles.ts finds it. */
const findNode22 = async (): Promise<string> => {
  const { stdout } = await run('npx', ['--yes', '-p', 'node@22', '-c', 'command -v node'], {
    cwd: os.tmpdir(),
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return stdout.trim().split('\n').at(-1)!;
};

/** A day of chart_songs as a handler's event: its columns, numbers as numbers; and a Parquet file of it. */
const sampleEvent = async (sampleCsv: string, sampleParquet: string) => {
  const rows = fromStageCsv('chart_songs', await readFile(sampleCsv, 'utf8'));
  const numeric = new Set(
    stageTables.chart_songs
      .filter((c) => ['integer', 'bigint', 'double'].includes(c.type))
      .map((c) => c.name),
  );
  const columns = Object.fromEntries(
    stageTables.chart_songs.map((c) => [
      c.name,
      rows.map((r) => (r[c.name] === null ? null : numeric.has(c.name) ? Number(r[c.name]) : r[c.name])),
    ]),
  );
  return { rows: rows.length, event: JSON.stringify({ columns, parquetFile: sampleParquet }) };
};

/** A candidate bundled (and its assets beside it) and zipped: the bundle's and the zip's bytes. */
const packCandidate = async (candidate: Writer, dir: string, folder: string) => {
  await mkdir(folder, { recursive: true });
  const entry = path.join(folder, 'entry.mjs');
  await writeFile(entry, candidate.source);
  const bundle = path.join(folder, 'handler.mjs');
  await build({
    ...lambdaBuildOptions,
    entryPoints: [entry],
    outfile: bundle,
    // serverless.yml's banner, plus __dirname for a package that reads a file beside its code.
    banner: { js: `${lambdaBanner} const __dirname = import.meta.dirname;` },
  });
  const assets = (candidate.assets ?? []).map((asset) => path.join(dir, 'node_modules', asset));
  for (const asset of assets) await copyFile(asset, path.join(folder, path.basename(asset)));
  const zip = path.join(folder, 'function.zip');
  await run('zip', ['-q', zip, 'handler.mjs', ...assets.map((a) => path.basename(a))], { cwd: folder });
  return { bundle, bundleBytes: (await stat(bundle)).size, zipBytes: (await stat(zip)).size };
};

/**
 * Runs a bundled candidate once on Node 22 (import and first call, as a cold start's first event
 * would), and reads what it wrote back with DuckDB: its rows and its codec.
 */
const tryCandidate = async (
  node22: string,
  bundle: string,
  eventFile: string,
  connection: DuckDBConnection,
): Promise<{ timing: string; file: string; readBack: string }> => {
  const parquet = path.join(path.dirname(bundle), 'out.parquet');
  const script = `import { readFile, writeFile } from 'node:fs/promises';
const t = performance.now();
const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const answer = await handler(JSON.parse(await readFile(${JSON.stringify(eventFile)}, 'utf8')));
const took = performance.now() - t;
if (typeof answer === 'string') await writeFile(${JSON.stringify(parquet)}, Buffer.from(answer, 'base64'));
process.stdout.write(JSON.stringify({ took, rows: answer?.rows }));`;
  try {
    const { stdout } = await run(node22, ['--no-warnings', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH },
      maxBuffer: 16 * 1024 * 1024,
    });
    const answer = z.object({ took: z.number(), rows: z.number().optional() }).parse(JSON.parse(stdout));
    const timing = `${ms(answer.took)} ms`;
    if (!existsSync(parquet)) {
      return { timing, file: '-', readBack: answer.rows === undefined ? '-' : `read ${answer.rows} rows` };
    }
    const reader = await connection.runAndReadAll(
      `select (select count(*) from read_parquet(${literal(parquet)}))::bigint, string_agg(distinct compression, ',') from parquet_metadata(${literal(parquet)})`,
    );
    const [count, codecs] = reader.getRows()[0]!;
    return {
      timing,
      file: `${kb((await stat(parquet)).size)} KB`,
      readBack: `DuckDB reads ${String(count)} rows, ${String(codecs)}`,
    };
  } catch (error) {
    const line = (error as Error).message.split('\n').find((l) => /Error/.test(l));
    return { timing: `failed: ${line ?? 'see its stderr'}`, file: '-', readBack: '-' };
  }
};

/**
 * Bundles each candidate as serverless.yml bundles a function, zips it, runs it once on Node 22 on
 * a day of chart_songs and reads its file back with DuckDB; then bundles the functions that would
 * carry a writer or a reader, without and with it.
 */
const measureWriters = async (dir: string, sampleCsv: string, sampleParquet: string): Promise<void> => {
  const out = path.join(dir, 'bench-out');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const sample = await sampleEvent(sampleCsv, sampleParquet);
  const eventFile = path.join(out, 'event.json');
  await writeFile(eventFile, sample.event);
  const node22 = await findNode22();
  const { stdout: node22Version } = await run(node22, ['--version']);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const rows = [
    [
      'candidate',
      'codec',
      'bundle KB',
      'zip KB',
      'over baseline',
      'import + first call',
      'its file',
      'read back',
    ],
  ];
  let baselineZip = 0;
  for (const [i, candidate] of candidates.entries()) {
    const packed = await packCandidate(candidate, dir, path.join(out, `candidate-${i}`));
    if (i === 0) baselineZip = packed.zipBytes;
    const tried = await tryCandidate(node22, packed.bundle, eventFile, connection);
    rows.push([
      candidate.name,
      candidate.codec,
      kb(packed.bundleBytes),
      kb(packed.zipBytes),
      i === 0 ? '' : `+${kb(packed.zipBytes - baselineZip)}`,
      tried.timing,
      tried.file,
      tried.readBack,
    ]);
  }
  connection.closeSync();
  instance.closeSync();
  console.log(
    `\nParquet writers and a reader in a Lambda bundle (esbuild, minified, ESM, node22; zipped), each run once on Node ${node22Version.trim()} on a day of chart_songs (${sample.rows} rows); the budget is ${kb(lambdaZipBudgetBytes)} KB a zip\n`,
  );
  console.log(table(rows));
  await measureFunctions(out);
};

/** The functions that would carry hyparquet, bundled as serverless.yml bundles them, without and with it. */
const measureFunctions = async (out: string): Promise<void> => {
  const rows = [['function', 'adds', 'zip KB now', 'zip KB with it', 'difference', 'budget left']];
  for (const fn of functionsTouched) {
    const folder = path.join(out, fn.name);
    await mkdir(folder, { recursive: true });
    const plain = `export { handler } from ${JSON.stringify(path.join(root, 'infra', 'aws', 'functions', fn.file))};\n`;
    const withParquet = [
      plain,
      fn.adds.includes('writer') ? writerExport : '',
      fn.adds.includes('reader') ? readerExport : '',
    ].join('\n');
    const now = await zippedBundle(folder, 'now', plain);
    const after = await zippedBundle(folder, 'with', withParquet);
    rows.push([
      fn.name,
      `hyparquet ${fn.adds}, zstd from node:zlib`,
      kb(now),
      kb(after),
      `+${kb(after - now)}`,
      kb(lambdaZipBudgetBytes - after),
    ]);
  }
  console.log(
    `\nThe functions that write or read the normalised files, bundled with serverless.yml's esbuild options and plugin, zipped\n`,
  );
  console.log(table(rows));
};

/** One entry bundled with serverless.yml's esbuild settings, zipped as the package is; the zip's bytes. */
const zippedBundle = async (folder: string, name: string, source: string): Promise<number> => {
  const entry = path.join(folder, `${name}.entry.mjs`);
  await writeFile(entry, source);
  const plugins = createRequire(import.meta.url)(
    path.join(root, 'infra', 'aws', 'build', 'esbuild-plugins.cjs'),
  ) as Plugin[];
  await build({
    ...lambdaBuildOptions,
    entryPoints: [entry],
    outfile: path.join(folder, name, 'handler.mjs'),
    plugins,
    banner: { js: lambdaBanner },
  });
  const zip = path.join(folder, `${name}.zip`);
  await rm(zip, { force: true });
  await run('zip', ['-q', zip, 'handler.mjs'], { cwd: path.join(folder, name) });
  return (await stat(zip)).size;
};

/** Where each format's copy of a lake file is, under the work folder. */
const formatPath = (work: string, format: Format, key: string): string =>
  format === 'csv'
    ? path.join(work, 'csv', key)
    : format === 'csv.gz'
      ? path.join(work, 'csv.gz', `${key}.gz`)
      : path.join(work, 'parquet', key.replace(/\.csv$/, '.parquet'));

const sum = (list: readonly LakeFile[], pick: (f: LakeFile) => number) =>
  list.reduce((total, f) => total + pick(f), 0);

/** The Parquet column chunks' compressed bytes of some files, of some columns (all by default). */
const chunkBytes = (list: readonly LakeFile[], columns?: readonly string[]) =>
  sum(list, (f) =>
    Object.entries(f.columnBytes)
      .filter(([c]) => !columns || columns.includes(c))
      .reduce((total, [, bytes]) => total + bytes, 0),
  );

/** The lake: a sandbox backfill of `days` days in a home of its own, or the folder given; its normalised files' keys. */
const takeLake = async (into: string): Promise<string[]> => {
  if (options.lake) {
    const keys = await copyNormalised(options.lake, into);
    console.log(`lake: ${options.lake}, ${keys.length} normalised files`);
    return keys;
  }
  const to = '2025-12-31';
  const days = daysBetween(dayAfter(to, 1 - options.days), to).map((chartDate) => ({
    chartId: 'global',
    chartDate,
  }));
  const started = performance.now();
  const keys = await withPipeline(
    { SPOTIFY_RATE_LIMIT: liftedLimit, RECCOBEATS_RATE_LIMIT: liftedLimit },
    async (pipeline) => {
      const summary = await pipeline.backfill(days);
      if (summary.status !== 'succeeded') throw new Error(`the sandbox backfill ended ${summary.status}`);
      return copyNormalised(pipeline.config.lakeRoot, into);
    },
  );
  console.log(
    `lake: a sandbox backfill of ${days.length} days (global, 200 entries a day, ${days[0]!.chartDate} to ${to}) in ${seconds(performance.now() - started)} s, ${keys.length} normalised files`,
  );
  return keys;
};

/**
 * Writes each file again gzipped and as Parquet (zstd), the latter from the stage table it loads
 * into (so with the stage's types), and reads the Parquet column chunks' sizes.
 */
const convert = async (work: string, files: readonly LakeFile[]): Promise<void> => {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  for (const statement of stageDdl('duckdb')) await connection.run(statement);
  for (const file of files) {
    const csv = formatPath(work, 'csv', file.key);
    const gz = formatPath(work, 'csv.gz', file.key);
    const parquet = formatPath(work, 'parquet', file.key);
    await mkdir(path.dirname(gz), { recursive: true });
    await mkdir(path.dirname(parquet), { recursive: true });
    await writeFile(gz, gzipSync(await readFile(csv)));
    await connection.run(`delete from stage.${file.table}`);
    const loaded = await connection.runAndReadAll(loadStatement('csv', file.table, csv));
    file.rows = Number(loaded.getRows()[0]?.[0] ?? 0);
    await connection.run(
      `copy stage.${file.table} to ${literal(parquet)} (format parquet, compression zstd)`,
    );
    file.gzipBytes = (await stat(gz)).size;
    file.parquetBytes = (await stat(parquet)).size;
    const chunks = await connection.runAndReadAll(
      `select path_in_schema, sum(total_compressed_size)::bigint from parquet_metadata(${literal(parquet)}) group by 1`,
    );
    for (const [column, bytes] of chunks.getRows()) file.columnBytes[String(column)] = Number(bytes);
  }
  connection.closeSync();
  instance.closeSync();
};

const printSizes = (
  files: readonly LakeFile[],
  days: readonly string[],
  rows: Record<StageTableName, number>,
) => {
  const sizeRows = [
    [
      'dataset',
      'files',
      'rows',
      'CSV MB',
      'gzip MB',
      'Parquet MB',
      'gzip/CSV',
      'Parquet/CSV',
      'CSV KB/day',
      'gzip KB/day',
      'Parquet KB/day',
      'Parquet footer KB/file',
    ],
  ];
  for (const tableName of [...tableNames, undefined]) {
    const list = tableName ? files.filter((f) => f.table === tableName) : files;
    const [csv, gzip, parquet] = [
      sum(list, (f) => f.csvBytes),
      sum(list, (f) => f.gzipBytes),
      sum(list, (f) => f.parquetBytes),
    ];
    sizeRows.push([
      tableName ?? 'all three',
      String(list.length),
      String(tableName ? rows[tableName] : rows.chart_songs + rows.song_attributes + rows.song_artists),
      mb(csv),
      mb(gzip),
      mb(parquet),
      ratio(gzip, csv),
      ratio(parquet, csv),
      kb(csv / days.length),
      kb(gzip / days.length),
      kb(parquet / days.length),
      kb((parquet - chunkBytes(list)) / list.length),
    ]);
  }
  console.log(
    `\nSizes: ${days.length} days, file for file as the lake has them (CSV as written; gzip at zlib's default level; Parquet zstd by DuckDB)\n`,
  );
  console.log(table(sizeRows));
};

/** Load timings of one format: per table and per whole day, every day and every run. */
interface LoadTimes {
  /** Per run: the time each table's files of all days took, and all days whole. */
  readonly runs: Record<StageTableName | 'day', number[]>;
  /** Per day of every run: each table's files, and the day whole (begin to commit). */
  readonly days: Record<StageTableName | 'day', number[]>;
}

const emptyTimes = (): LoadTimes => ({
  runs: { chart_songs: [], song_attributes: [], song_artists: [], day: [] },
  days: { chart_songs: [], song_attributes: [], song_artists: [], day: [] },
});

/**
 * Loads every day into fresh stage tables, each day in one transaction as the warehouse loads a
 * day, and checks the rows; with `times`, keeps the timings.
 */
const loadAll = async (
  connection: DuckDBConnection,
  work: string,
  files: readonly LakeFile[],
  days: readonly string[],
  format: Format,
  expected: Record<StageTableName, number>,
  times?: LoadTimes,
): Promise<void> => {
  for (const tableName of tableNames) await connection.run(`drop table if exists stage.${tableName}`);
  for (const statement of stageDdl('duckdb')) await connection.run(statement);
  await connection.run('checkpoint');
  const totals = { chart_songs: 0, song_attributes: 0, song_artists: 0, day: 0 };
  for (const day of days) {
    const dayStarted = performance.now();
    await connection.run('begin transaction');
    for (const tableName of tableNames) {
      const started = performance.now();
      for (const file of files.filter((f) => f.table === tableName && f.day === day)) {
        await connection.run(loadStatement(format, tableName, formatPath(work, format, file.key)));
      }
      const took = performance.now() - started;
      totals[tableName] += took;
      times?.days[tableName].push(took);
    }
    await connection.run('commit');
    const dayTook = performance.now() - dayStarted;
    totals.day += dayTook;
    times?.days.day.push(dayTook);
  }
  if (times)
    for (const [key, total] of Object.entries(totals)) times.runs[key as StageTableName | 'day'].push(total);
  for (const tableName of tableNames) {
    const reader = await connection.runAndReadAll(`select count(*)::bigint from stage.${tableName}`);
    const count = Number(reader.getRows()[0]![0]);
    if (count !== expected[tableName]) {
      throw new Error(`${format}: ${count} rows in stage.${tableName}, not ${expected[tableName]}`);
    }
  }
};

/** Every format loaded once untimed, then `runs` timed runs of each, the formats taking turns first. */
const measureLoads = async (
  work: string,
  files: readonly LakeFile[],
  days: readonly string[],
  expected: Record<StageTableName, number>,
): Promise<Record<Format, LoadTimes>> => {
  const times: Record<Format, LoadTimes> = {
    csv: emptyTimes(),
    'csv.gz': emptyTimes(),
    parquet: emptyTimes(),
  };
  const instance = await DuckDBInstance.create(path.join(work, 'warehouse.duckdb'), { threads: '1' });
  const connection = await instance.connect();
  for (const format of formats) await loadAll(connection, work, files, days, format, expected);
  for (let r = 0; r < options.runs; r += 1) {
    const order = [...formats.slice(r % formats.length), ...formats.slice(0, r % formats.length)];
    for (const format of order) await loadAll(connection, work, files, days, format, expected, times[format]);
  }
  connection.closeSync();
  instance.closeSync();
  return times;
};

const printLoads = (times: Record<Format, LoadTimes>, days: readonly string[]) => {
  const spread = (list: readonly number[]) => `${ms(Math.min(...list))}–${ms(Math.max(...list))}`;
  const rows = [
    [
      'dataset',
      'CSV ms',
      'range',
      'gzip ms',
      'range',
      'Parquet ms',
      'range',
      'Parquet/CSV',
      'CSV ms/day',
      'gzip ms/day',
      'Parquet ms/day',
    ],
  ];
  for (const key of [...tableNames, 'day'] as const) {
    const [csv, gz, parquet] = formats.map((f) => times[f].runs[key]);
    rows.push([
      key === 'day' ? 'a whole day (begin, 3 tables, commit)' : key,
      ms(median(csv!)),
      spread(csv!),
      ms(median(gz!)),
      spread(gz!),
      ms(median(parquet!)),
      spread(parquet!),
      ratio(median(parquet!), median(csv!)),
      ...formats.map((f) => ms(median(times[f].days[key]))),
    ]);
  }
  console.log(
    `\nLoading ${days.length} days into DuckDB stage tables (a database file, 1 thread, as the embedded warehouse), each day in one transaction: the median of ${options.runs} runs and their range, after one untimed run, the formats taking turns first; per day: the median of ${options.runs} × ${days.length} days\n`,
  );
  console.log(table(rows));
};

/** Athena's minimum per query, 10 MB; taken as 10^7 bytes. */
const athenaMinimumBytes = 10_000_000;

const printAthena = (files: readonly LakeFile[], days: readonly string[]) => {
  const of = (tableName: StageTableName, day?: string) =>
    files.filter((f) => f.table === tableName && (day === undefined || f.day === day));
  const billed = (bytes: number) => mb(Math.max(bytes, athenaMinimumBytes));
  const popularity = ['track_id', 'chart_date', 'popularity'];
  const year = (bytes: number) => (bytes / days.length) * 365;
  const queries = [
    {
      what: 'a day as fetched: chart_songs, all columns, one day (the median day)',
      csv: median(days.map((d) => sum(of('chart_songs', d), (f) => f.csvBytes))),
      gzip: median(days.map((d) => sum(of('chart_songs', d), (f) => f.gzipBytes))),
      parquet: median(days.map((d) => chunkBytes(of('chart_songs', d)))),
    },
    {
      what: `a track's popularity over the ${days.length} days: song_attributes' ${popularity.join(', ')}`,
      csv: sum(of('song_attributes'), (f) => f.csvBytes),
      gzip: sum(of('song_attributes'), (f) => f.gzipBytes),
      parquet: chunkBytes(of('song_attributes'), popularity),
    },
  ];
  const [, track] = queries;
  queries.push({
    what: 'the same over 365 days (projected: these bytes per day × 365)',
    csv: year(track!.csv),
    gzip: year(track!.gzip),
    parquet: year(track!.parquet),
  });
  const rows = [['query', 'CSV KB', 'gzip KB', 'Parquet KB', 'Parquet/CSV', 'billed MB: CSV, gzip, Parquet']];
  for (const q of queries) {
    rows.push([
      q.what,
      kb(q.csv),
      kb(q.gzip),
      kb(q.parquet),
      ratio(q.parquet, q.csv),
      [q.csv, q.gzip, q.parquet].map(billed).join(', '),
    ]);
  }
  console.log(
    '\nAthena, worked out (no Athena here): a text file is read whole (gzip: its compressed bytes); Parquet: the compressed chunks of the columns the query names. Billed: at least 10 MB a query\n',
  );
  console.log(table(rows));
  const perDay = track!.csv / days.length;
  console.log(
    `\nsong_attributes' CSV grows by ${kb(perDay)} KB a day of one chart: a query over all its days passes Athena's 10 MB minimum after about ${Math.ceil(athenaMinimumBytes / perDay)} days; gzip after about ${Math.ceil(athenaMinimumBytes / (track!.gzip / days.length))} days; Parquet's three columns after about ${Math.ceil(athenaMinimumBytes / (track!.parquet / days.length))} days.`,
  );
};

const printColumns = (files: readonly LakeFile[]) => {
  const rows = [['dataset', 'column', 'Parquet KB, all days', 'share']];
  for (const tableName of tableNames) {
    const list = files.filter((f) => f.table === tableName);
    const all = chunkBytes(list);
    for (const { name } of stageTables[tableName]) {
      const bytes = chunkBytes(list, [name]);
      rows.push([tableName, name, kb(bytes), ratio(bytes, all)]);
    }
  }
  console.log('\nParquet column chunks (compressed), all days\n');
  console.log(table(rows));
};

const work = await mkdtemp(path.join(os.tmpdir(), 'chartflow-lake-parquet-'));
try {
  console.log(
    `chartflow lake-parquet: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const keys = await takeLake(path.join(work, 'csv'));
  const files: LakeFile[] = await Promise.all(
    keys.map(async (key) => {
      return {
        ...normalisedFile(key)!,
        key,
        csvBytes: (await stat(formatPath(work, 'csv', key))).size,
        gzipBytes: 0,
        parquetBytes: 0,
        columnBytes: {},
        rows: 0,
      };
    }),
  );
  const days = [...new Set(files.map((f) => f.day))].sort();
  await convert(work, files);
  const rows = Object.fromEntries(
    tableNames.map((t) => [
      t,
      sum(
        files.filter((f) => f.table === t),
        (f) => f.rows,
      ),
    ]),
  ) as Record<StageTableName, number>;
  printSizes(files, days, rows);
  printLoads(await measureLoads(work, files, days, rows), days);
  printAthena(files, days);
  printColumns(files);
  if (options.writers) {
    const sample = files.find((f) => f.table === 'chart_songs')!;
    await measureWriters(
      path.resolve(options.writers),
      formatPath(work, 'csv', sample.key),
      formatPath(work, 'parquet', sample.key),
    );
  }
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
