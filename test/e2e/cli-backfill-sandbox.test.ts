import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../infra/local/cli/main.js';
import { cliIn } from '../support/cli-context.js';

const cli = cliIn;

/** Three days of the smallest sandbox chart, and the flags that vary. */
const backfill = (...flags: string[]) => [
  'node',
  'chartflow',
  'backfill',
  '--from',
  '2026-07-30',
  '--to',
  '2026-08-01',
  '--chart',
  'br',
  ...flags,
];

describe('Function: chartflow backfill, end to end', () => {
  let home: string;
  const out: string[] = [];
  const notes: string[] = [];
  let code: number;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-backfill-'));
    code = await main(backfill('--json'), { ...cli(home, out), note: (t) => notes.push(t) });
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('loads every day of the range, then transforms them in one batch, to success', () => {
    expect(code).toBe(0);
    const summary = JSON.parse(out[0]!) as {
      status: string;
      loads: number;
      marts: Record<string, number>;
      days: { chartDate: string; status: string; chartEntries: number; rows: Record<string, number> }[];
    };
    expect(summary.status).toBe('succeeded');
    expect(summary.loads).toBe(3);
    expect(summary.days.map((d) => [d.chartDate, d.status, d.chartEntries, d.rows.chart_songs])).toEqual([
      ['2026-07-30', 'succeeded', 50, 50],
      ['2026-07-31', 'succeeded', 50, 50],
      ['2026-08-01', 'succeeded', 50, 50],
    ]);
    expect(summary.marts.fct_chart_entries).toBe(150);
  });

  it('with --json, prints only the summary: no line of progress', () => {
    expect(notes.filter((n) => /\[\d\/3\]|transforming/.test(n))).toEqual([]);
  });

  it('without --json or a terminal, prints a line per day as it loads, then one for the transform', async () => {
    const printed: string[] = [];
    const said: string[] = [];
    const exit = await main(
      ['node', 'chartflow', 'backfill', '--from', '2026-08-02', '--to', '2026-08-03', '--chart', 'br'],
      { ...cli(home, printed), note: (t) => said.push(t) },
    );
    expect(exit).toBe(0);
    expect(said.filter((n) => /^chartflow: \[\d\/2\] br 2026-08-0[23]: loaded$/.test(n))).toHaveLength(2);
    expect(
      said.some((n) => /^chartflow: 2 day\(s\) loaded in .* s; transforming them in one dbt build$/.test(n)),
    ).toBe(true);
    expect(said.at(-1)).toMatch(
      /^chartflow: wrote the report of br, 2026-05-06 to 2026-08-03: open file:\/\/.*index\.html to see the charts$/,
    );
    expect(printed.join('\n')).toMatch(/^backfill 2026-08-02 to 2026-08-03: succeeded/);
  }, 360_000);

  it('runs each day end to end, one dbt build per day, with --one-by-one, to the same marts', async () => {
    const oneByOneHome = await mkdtemp(path.join(tmpdir(), 'chartflow-backfill-one-'));
    try {
      const printed: string[] = [];
      const exit = await main(backfill('--one-by-one', '--json'), cli(oneByOneHome, printed));
      expect(exit).toBe(0);
      const summaries = JSON.parse(printed[0]!) as {
        chartDate: string;
        status: string;
        loadId: string;
        rows: { marts: Record<string, number> };
      }[];
      expect(summaries.map((s) => [s.chartDate, s.status])).toEqual([
        ['2026-07-30', 'succeeded'],
        ['2026-07-31', 'succeeded'],
        ['2026-08-01', 'succeeded'],
      ]);
      expect(summaries.at(-1)!.rows.marts.fct_chart_entries).toBe(150);
      // One transform per day: three batches, each named by its day's load.
      const batches = await readdir(path.join(oneByOneHome, 'lake', 'control', 'batches'));
      expect(batches.sort()).toEqual(summaries.map((s) => `batch=${s.loadId}`).sort());
    } finally {
      await rm(oneByOneHome, { recursive: true, force: true });
    }
  }, 360_000); // three dbt builds, each up to a minute and more when the suite's 60-day backfills share the CPU
});

describe('Function: chartflow sandbox', () => {
  it('serves the Spotify endpoints over HTTP until it is stopped', async () => {
    const out: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = main(
      ['node', 'chartflow', 'sandbox', '--port', '0'],
      cli('/nonexistent', out),
      () => stopped,
    );
    await expect.poll(() => out.length).toBe(1);
    const apiUrl = /SPOTIFY_API_URL=(\S+)/.exec(out[0]!)![1]!;
    const accounts = /SPOTIFY_ACCOUNTS_URL=(\S+)/.exec(out[0]!)![1]!;
    const id = /SPOTIFY_CLIENT_ID=(\S+)/.exec(out[0]!)![1]!;
    const secret = /SPOTIFY_CLIENT_SECRET=(\S+)/.exec(out[0]!)![1]!;
    const token = await fetch(`${accounts}/api/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const tracks = await fetch(`${apiUrl}/tracks?ids=0000000000000000000000`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(await tracks.json()).toEqual({ tracks: [null] });
    stop();
    expect(await running).toBe(0);
  });

  it('plays a Development Mode app with --access development, and prints where its ReccoBeats is', async () => {
    const out: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = main(
      ['node', 'chartflow', 'sandbox', '--access', 'development'],
      cli('/nonexistent', out),
      () => stopped,
    );
    await expect.poll(() => out.length).toBe(1);
    const value = (name: string) => new RegExp(`${name}=(\\S+)`).exec(out[0]!)![1]!;
    const token = await fetch(`${value('SPOTIFY_ACCOUNTS_URL')}/api/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${value('SPOTIFY_CLIENT_ID')}:${value('SPOTIFY_CLIENT_SECRET')}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const multi = await fetch(`${value('SPOTIFY_API_URL')}/tracks?ids=0000000000000000000000`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(multi.status).toBe(403);
    const reccobeats = await fetch(`${value('RECCOBEATS_API_URL')}/track?ids=0000000000000000000000`);
    expect(await reccobeats.json()).toEqual({ content: [] });
    expect(value('CHARTFLOW_MODE')).toBe('live');
    stop();
    expect(await running).toBe(0);
  });

  it('refuses an access level it does not know', async () => {
    const notes: string[] = [];
    const code = await main(['node', 'chartflow', 'sandbox', '--access', 'premium'], {
      ...cli('/nonexistent', []),
      note: (t) => notes.push(t),
    });
    expect(code).toBe(2);
    expect(notes).toEqual(['chartflow: --access must be extended or development.']);
  });
});
