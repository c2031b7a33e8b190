import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../shared/config/config.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { listDay } from '../../shared/lake/layouts.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import { LocalPipeline } from '../../infra/local/runtime.js';
import { stageRows } from '../support/pipeline.js';
import { chartflowChild } from '../support/chartflow-child.js';

/**
 * The lake proves itself (docs/reliability.md, "A lake that proves itself"): a day run end to end
 * by the CLI, then its files damaged one at a time, as a disk, a hand or a tool might, and the day
 * replayed. Each replay is refused with the file named; nothing is staged; the marts keep their
 * rows; the damaged file is left as it was found; `verify` lists exactly that file. Before checksums, a chart cut at a line boundary
 * replayed as `succeeded` with the day's fact rows cut too, and an edited value loaded silently.
 */
const repo = path.resolve(import.meta.dirname, '../..');
const day = { chartDate: '2026-08-01', chartId: 'br' };
const dayArgs = ['--date', day.chartDate, '--chart', day.chartId];
const exec = promisify(execFile);

/** The CLI as a user without Spotify credentials runs it (sandbox mode), in the test's home. */
const cli = (home: string, args: readonly string[]) =>
  chartflowChild(
    home,
    args,
    Object.fromEntries(
      Object.keys(process.env)
        .filter((n) => n.startsWith('SPOTIFY_'))
        .map((n) => [n, undefined]),
    ),
  );

const digest = async (home: string): Promise<string> =>
  (
    await exec(
      process.execPath,
      ['--import', 'tsx', 'test/support/mart-digest.ts', path.join(home, 'warehouse.duckdb')],
      { cwd: repo },
    )
  ).stdout;

/** How a file is damaged: what it becomes, from what it was (`undefined`: deleted). */
interface Damage {
  readonly name: string;
  /** The file damaged, from the day's listing. */
  readonly pick: (keys: readonly string[]) => string;
  readonly damage: (body: Buffer) => Buffer | undefined;
  readonly kind: 'size' | 'checksum' | 'missing';
}

const chartCsv = lakeKeys.chartCsv(day.chartDate, day.chartId);
const attributesCsv = (keys: readonly string[]) => keys.find((k) => k.startsWith('tables/song_attributes/'))!;
const artistsCsv = (keys: readonly string[]) => keys.find((k) => k.startsWith('tables/song_artists/'))!;

const damages: readonly Damage[] = [
  {
    name: 'the chart CSV cut at a line boundary (94 of its rows kept)',
    pick: () => chartCsv,
    damage: (body) => Buffer.from(`${body.toString('utf8').split('\n').slice(0, 95).join('\n')}\n`),
    kind: 'size',
  },
  {
    name: 'an attributes CSV cut mid-record',
    pick: attributesCsv,
    damage: (body) => body.subarray(0, Math.floor(body.byteLength / 2)),
    kind: 'size',
  },
  {
    name: '400 random bytes written into an artists CSV',
    pick: artistsCsv,
    damage: (body) => {
      const copy = Buffer.from(body);
      randomBytes(400).copy(copy, Math.floor(copy.byteLength / 3));
      return copy;
    },
    kind: 'checksum',
  },
  {
    name: 'a popularity edited in range (same size)',
    pick: attributesCsv,
    damage: (body) => {
      const text = body.toString('utf8');
      // The popularity column of the first row that has a two-digit one.
      const [header, ...rows] = text.split('\n');
      const column = header!.split(',').indexOf('"popularity"');
      const index = rows.findIndex((row) => /^\d\d$/.test(row.split(',')[column] ?? ''));
      const cells = rows[index]!.split(',');
      cells[column] = cells[column] === '42' ? '43' : '42';
      rows[index] = cells.join(',');
      return Buffer.from([header, ...rows].join('\n'));
    },
    kind: 'checksum',
  },
  {
    name: 'an artists CSV deleted',
    pick: artistsCsv,
    damage: () => undefined,
    kind: 'missing',
  },
];

describe('Feature: a damaged lake file is refused, named, and left as it was', () => {
  let home: string;
  let store: FsObjectStore;
  let keys: string[];
  let marts: string;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-damaged-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    const ran = await cli(home, ['run', ...dayArgs]);
    expect(ran.code, ran.stderr).toBe(0);
    marts = await digest(home);
    const { charts, attributes } = await listDay(store, day);
    keys = [...charts, ...attributes].map((o) => o.key);
  }, 240_000);
  afterAll(() => rm(home, { recursive: true, force: true }));

  it.each(damages)(
    'refuses the replay of a day with $name',
    async ({ pick, damage, kind }) => {
      const key = pick(keys);
      const original = (await store.get(key))!;
      const damaged = damage(original);
      if (damaged === undefined) await store.delete(key);
      else await store.put(key, damaged);
      try {
        const replay = await cli(home, ['replay', ...dayArgs]);
        expect(replay.code, replay.stderr).toBe(1);
        expect(replay.stdout).toContain(
          `${day.chartId} ${day.chartDate}: not_loaded, refused: a lake file is not what the manifests say`,
        );
        expect(replay.stdout).toContain(`damaged         ${key}: ${kind}`);

        const [latest] = (await new RunRecords(store).list(day)).slice(-1);
        expect(latest).toMatchObject({ status: 'not_loaded', damagedFiles: [{ key, kind }] });
        // The file is neither deleted nor overwritten: it is as the damage left it.
        expect(await store.get(key)).toEqual(damaged);
        const pipeline = await LocalPipeline.start({
          config: parseLocalConfig({ CHARTFLOW_HOME: home }),
          processEnv: process.env,
        });
        try {
          expect(await stageRows(pipeline.warehouse)).toBe(0);
        } finally {
          await pipeline.close();
        }
        expect(await digest(home)).toBe(marts);
        // verify lists exactly the damaged file.
        const verify = await cli(home, ['verify', '--json']);
        expect(verify.code, verify.stderr).toBe(1);
        const verdict = JSON.parse(verify.stdout) as {
          days: { problems: { key: string; kind: string }[] }[];
        };
        expect(verdict.days.flatMap((d) => d.problems)).toEqual([expect.objectContaining({ key, kind })]);
      } finally {
        await store.put(key, original);
      }
    },
    120_000,
  );

  it('replays the day again once its files are whole', async () => {
    const replay = await cli(home, ['replay', ...dayArgs]);
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`${day.chartId} ${day.chartDate}: succeeded`);
    expect(await digest(home)).toBe(marts);
    expect((await cli(home, ['verify'])).code).toBe(0);
  }, 240_000);
});
