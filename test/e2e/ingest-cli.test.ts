import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../shared/config/config.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import { main } from '../../infra/local/cli/main.js';
import type { CliContext } from '../../infra/local/cli/context.js';
import { createCatalog } from '../../infra/sandbox/catalog.js';
import {
  currentChartsCsv,
  fakeTrackId,
  legacyChartsCsv,
} from '../services/chart-fetch/sources/spotify-charts-csv-files.js';

const fixedClock: Clock = { now: () => new Date('2026-11-22T10:00:00Z'), sleep: async () => undefined };
const someRows = [1, 2, 3].map((n) => ({
  trackId: fakeTrackId(n),
  trackName: `Song ${n}`,
  artistNames: 'A, B',
}));

let root: string;
let home: string;
let files: string;
let out: string[];
let notes: string[];

const context = (clock: Clock): CliContext => ({
  config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
  clock,
  processEnv: process.env,
  out: (t) => out.push(t),
  note: (t) => notes.push(t),
});
const chartflow = (args: string[], clock = fixedClock) =>
  main(['node', 'chartflow', 'ingest', ...args], context(clock));
const file = async (name: string, body: string) => {
  const where = path.join(files, name);
  await writeFile(where, body);
  return where;
};
const freshFolders = async (label: string) => {
  root = await mkdtemp(path.join(tmpdir(), `chartflow-${label}-`));
  home = path.join(root, 'home');
  files = path.join(root, 'downloads');
  await mkdir(files);
  out = [];
  notes = [];
};

describe('Function: chartflow ingest', () => {
  describe('refusals: one sentence, exit 2, nothing written', () => {
    beforeEach(() => freshFolders('cli-ingest'));
    afterEach(() => rm(root, { recursive: true, force: true }));

    const expectRefused = (code: number, pattern: RegExp) => {
      expect(code).toBe(2);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(pattern);
      expect(notes[0]).toMatch(/^chartflow: [^\n]+\.$/);
      expect(out).toEqual([]);
      expect(existsSync(home)).toBe(false);
    };

    it('refuses a file whose name is not a Spotify Charts name, even after good ones', async () => {
      await file('regional-global-daily-2026-11-01.csv', currentChartsCsv(someRows));
      await file('top-50-global.csv', currentChartsCsv(someRows));

      expectRefused(
        await chartflow([files]),
        /"top-50-global\.csv" is not named as a Spotify Charts file: expected regional-<global\|country code>-<daily\|weekly>-<YYYY-MM-DD\|latest>\.csv/,
      );
    });

    it('refuses a latest file without --date', async () => {
      expectRefused(
        await chartflow([await file('regional-global-daily-latest.csv', currentChartsCsv(someRows))]),
        /"regional-global-daily-latest\.csv" is the latest chart, whose day its name does not say: give it with --date\./,
      );
    });

    it('refuses a file dated in the future, or a --date in the future', async () => {
      expectRefused(
        await chartflow([await file('regional-us-daily-2026-11-23.csv', currentChartsCsv(someRows))]),
        /"regional-us-daily-2026-11-23\.csv" is the chart of 2026-11-23, which is in the future \(today is 2026-11-22 UTC\)/,
      );
      notes = [];
      expectRefused(
        await chartflow([
          await file('regional-us-daily-latest.csv', currentChartsCsv(someRows)),
          '--date',
          '2026-11-30',
        ]),
        /--date cannot be in the future/,
      );
    });

    it('refuses a file that is not a date', async () => {
      expectRefused(
        await chartflow([await file('regional-us-daily-2026-02-30.csv', currentChartsCsv(someRows))]),
        /names 2026-02-30, which is not a calendar day/,
      );
    });

    it('refuses a file whose header is neither format, naming it', async () => {
      expectRefused(
        await chartflow([await file('regional-gb-weekly-2026-11-19.csv', 'Pos,Title,Artist\n1,A,B\n')]),
        /"regional-gb-weekly-2026-11-19\.csv" is not a Spotify Charts file: its header is "Pos,Title,Artist"/,
      );
    });

    it('refuses two files of the same chart and day', async () => {
      const one = await file('regional-global-daily-2026-11-01.csv', currentChartsCsv(someRows));
      await mkdir(path.join(files, 'again'));
      const two = path.join(files, 'again', 'regional-global-daily-2026-11-01.csv');
      await writeFile(two, legacyChartsCsv(someRows));

      expectRefused(
        await chartflow([one, two]),
        /are both the global-daily chart of 2026-11-01: give only one/,
      );
    });

    it('refuses --date when no file is a latest file', async () => {
      expectRefused(
        await chartflow([
          await file('regional-global-daily-2026-11-01.csv', currentChartsCsv(someRows)),
          '--date',
          '2026-11-02',
        ]),
        /--date is the day of -latest\.csv files, and none of the files is one/,
      );
    });

    it('refuses a path that does not exist, or a folder with no CSV file', async () => {
      expectRefused(await chartflow([path.join(files, 'nope.csv')]), /nope\.csv" does not exist/);
      notes = [];
      expectRefused(await chartflow([files]), /The folder .* holds no \.csv file/);
    });

    it('refuses a call without paths', async () => {
      expectRefused(await chartflow([]), /missing required argument 'paths'/i);
    });
  });

  describe('a latest file and an older weekly file, end to end', () => {
    const day = '2026-09-12';
    const catalog = createCatalog();
    let code: number;
    let inbox: string[];

    beforeAll(async () => {
      await freshFolders('cli-ingest-run');
      const rowsOf = (date: string) =>
        catalog.chartFor('br', date).map((trackId) => ({
          trackId,
          trackName: catalog.track(trackId)!.name,
          artistNames: catalog
            .track(trackId)!
            .artistIds.map((a) => catalog.artistName(a, date))
            .join(', '),
        }));
      await file('regional-br-daily-latest.csv', currentChartsCsv(rowsOf(day)));
      // spotifycharts.com named its weekly files by their week, Friday to Friday.
      await file('regional-br-weekly-2026-08-28--2026-09-04.csv', legacyChartsCsv(rowsOf('2026-09-03')));
      code = await chartflow([files, '--date', day, '--json'], systemClock);
      inbox = await readdir(path.join(home, 'lake', 'inbox', 'charts'));
    });
    afterAll(() => rm(root, { recursive: true, force: true }));

    it('exits 0 and prints one JSON array of the days, in date order', () => {
      expect(code).toBe(0);
      expect(out).toHaveLength(1);
      const summaries = JSON.parse(out[0]!) as { chartId: string; chartDate: string; status: string }[];
      expect(summaries.map((s) => [s.chartId, s.chartDate, s.status])).toEqual([
        ['br-weekly', '2026-09-03', 'succeeded'],
        ['br-daily', day, 'succeeded'],
      ]);
      // With --json, only the summary: no line of progress.
      expect(notes.join('\n')).not.toMatch(/\[\d\/2\]/);
    });

    it('puts the latest file into the inbox under its dated name', () => {
      expect(inbox.sort()).toEqual([
        'regional-br-daily-2026-09-12.csv',
        'regional-br-weekly-2026-08-28--2026-09-04.csv',
      ]);
    });
  });
});
