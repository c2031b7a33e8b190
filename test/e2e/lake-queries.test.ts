import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../infra/local/cli/main.js';
import { sqlHelp } from '../../infra/local/cli/commands/sql.js';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { athenaParserAvailable, parseAsAthena } from '../support/athena-sql.js';
import { cliIn } from '../support/cli-context.js';

/**
 * The lake's documented queries (docs/lake.md, "Queries worth keeping") as a user runs them:
 * `chartflow sql --lake` on a 14-day sandbox lake, one day run twice, a few records quarantined.
 * Each answers what the lake holds, and where the marts hold the same facts, what they say. Each is
 * also parsed with sqlglot's Athena dialect, since Athena itself cannot run here.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const doc = readFileSync(path.join(root, 'docs', 'lake.md'), 'utf8');

/** The queries of docs/lake.md, by the name on their first line (`-- lake query: name`). */
const documented = new Map(
  [...doc.matchAll(/```sql\n-- lake query: ([a-z-]+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!.trim()]),
);
const query = (name: string): string => {
  const text = documented.get(name);
  if (text === undefined) throw new Error(`docs/lake.md has no query named ${name}`);
  return text;
};

const from = '2026-10-01';
const to = '2026-10-14';
type Row = Record<string, unknown>;

describe('docs/lake.md’s queries', () => {
  it('are the five the lake page promises', () => {
    expect([...documented.keys()]).toEqual([
      'day-as-fetched',
      'track-popularity',
      'quarantined',
      'runs-by-outcome',
      'two-runs',
    ]);
  });

  it.runIf(athenaParserAvailable())('parse in Athena’s dialect (Trino, in sqlglot)', async () => {
    await parseAsAthena([...documented.values()]);
  });
});

describe('Command: chartflow sql --lake, on a 14-day sandbox lake', () => {
  let work: string;
  let home: string;
  const out: string[] = [];

  /** One query through the command line, its JSON answer parsed. */
  const sql = async (text: string, lake = true): Promise<Row[]> => {
    out.length = 0;
    const code = await main(
      ['node', 'chartflow', 'sql', ...(lake ? ['--lake'] : []), '--format', 'json', text],
      cliIn(home, out),
    );
    expect(code, out.join('\n')).toBe(0);
    return JSON.parse(out.join('\n')) as Row[];
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'chartflow-lake-queries-'));
    home = path.join(work, 'home');
    const quiet: string[] = [];
    expect(
      await main(['node', 'chartflow', 'backfill', '--from', from, '--to', to, '--json'], cliIn(home, quiet)),
    ).toBe(0);
    // The last day again: a second run of it, for the comparison of two runs.
    expect(await main(['node', 'chartflow', 'run', '--date', to, '--json'], cliIn(home, quiet))).toBe(0);
    // Set aside as chart-fetch and track-attributes set aside what fails validation.
    const store: ObjectStore = new FsObjectStore({ root: path.join(home, 'lake') });
    const put = (key: string, record: Row) =>
      store.put(key, JSON.stringify(record), { contentType: 'application/json' });
    await put(lakeKeys.quarantine('chart_songs', '2026-10-03', 'global', 'run-1-position-7'), {
      reason: 'invalid: the entry has no track id',
      runId: 'run-1',
      raw: { position: 7, track: null },
    });
    await put(lakeKeys.quarantine('chart_songs', '2026-10-03', 'global', 'run-1-position-9'), {
      reason: 'invalid: the entry has no track id',
      runId: 'run-1',
      raw: { position: 9, track: null },
    });
    await put(lakeKeys.quarantine('song_attributes', '2026-10-05', 'global', 'run-2-abc-spotify'), {
      reason: 'invalid: popularity 140 is not 0..100',
      provider: 'spotify',
      runId: 'run-2',
      trackId: 'abc',
      raw: { id: 'abc', popularity: 140 },
    });
  }, 900_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('a day as fetched: the day’s chart of its last run, as the marts hold it', async () => {
    const lake = await sql(query('day-as-fetched'));
    const marts = await sql(
      `select position, track_id, popularity from marts.fct_chart_entries
       where chart_id = 'global' and chart_date = date '${to}' order by position`,
      false,
    );
    expect(lake).toHaveLength(200);
    expect(lake.map(({ position, track_id, popularity }) => ({ position, track_id, popularity }))).toEqual(
      marts,
    );
    expect(lake.every((r) => typeof r.track_name === 'string' && r.features_source !== undefined)).toBe(true);
  });

  it('a track’s popularity over every day it charted, as the marts hold it', async () => {
    const trackId = /c\.track_id = '([^']+)'/.exec(query('track-popularity'))![1]!;
    const lake = await sql(query('track-popularity'));
    const marts = await sql(
      `select cast(chart_date as varchar) as "date", position, popularity from marts.fct_chart_entries
       where chart_id = 'global' and track_id = '${trackId}' order by chart_date`,
      false,
    );
    expect(lake.length).toBeGreaterThan(1);
    expect(lake).toEqual(marts);
  });

  it('what was quarantined, and why: counted by dataset, day and reason', async () => {
    expect(await sql(query('quarantined'))).toEqual([
      {
        dataset: 'chart_songs',
        date: '2026-10-03',
        reason: 'invalid: the entry has no track id',
        records: 2,
        example: '{"position":7,"track":null}',
      },
      {
        dataset: 'song_attributes',
        date: '2026-10-05',
        reason: 'invalid: popularity 140 is not 0..100',
        records: 1,
        example: 'abc',
      },
    ]);
  });

  it('runs by outcome: each run once, by its last load’s status', async () => {
    expect(await sql(query('runs-by-outcome'))).toEqual([
      { status: 'succeeded', runs: 15, first_day: from, last_day: to },
    ]);
  });

  it('two runs of the same day compared, track by track', async () => {
    const compared = await sql(query('two-runs'));
    expect(compared).toHaveLength(200);
    const day = await sql(
      `select track_id, run_id, popularity from song_attributes where chart = 'global' and "date" = '${to}'`,
    );
    const runs = [...new Set(day.map((r) => r.run_id as string))].sort();
    expect(runs).toHaveLength(2);
    const popularity = (run: string, track: unknown) =>
      day.find((r) => r.run_id === run && r.track_id === track)?.popularity ?? null;
    for (const row of compared) {
      expect(row.earlier_popularity).toBe(popularity(runs[0]!, row.track_id));
      expect(row.later_popularity).toBe(popularity(runs[1]!, row.track_id));
      expect(row.changed).toBe(
        row.earlier_popularity !== row.later_popularity || row.earlier_status !== row.later_status,
      );
    }
  });

  it('runs the help’s example, and gives every table its catalog’s columns', async () => {
    const example = /chartflow sql --lake "([^"]+)"/.exec(sqlHelp)![1]!;
    expect(await sql(example)).toEqual([{ status: 'succeeded', loads: 15 }]);
    for (const table of ['chart_songs', 'song_attributes', 'song_artists', 'quarantine', 'run_records']) {
      expect((await sql(`select count(*) as n from ${table} where chart = 'global'`))[0]!.n).toBeGreaterThan(
        0,
      );
    }
  });

  it('changes nothing in the lake, whatever it is asked', async () => {
    const lakeFiles = async () => (await readdir(path.join(home, 'lake'), { recursive: true })).length;
    const before = await lakeFiles();
    for (const statement of [
      `copy (select 1) to '${path.join(home, 'lake', 'tables', 'x.csv')}'`,
      'create table t as select 1',
      'set enable_external_access = true',
    ]) {
      out.length = 0;
      expect(await main(['node', 'chartflow', 'sql', '--lake', statement], cliIn(home, out))).toBe(1);
    }
    expect(await lakeFiles()).toBe(before);
  });
});
