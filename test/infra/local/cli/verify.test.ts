import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { thisHost } from '../../../../infra/local/process-liveness.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { lakeKeys, rawPrefix, tablePrefix } from '../../../../shared/lake/keys.js';
import { manifestSchema } from '../../../../shared/records/messages.js';
import { chartflowChild } from '../../../support/chartflow-child.js';

const chartDate = '2026-08-01';
const chartId = 'br';

/** `node bin/chartflow.js …` in a home of its own: its exit code, standard output and standard error. */
const chartflow = (home: string, ...args: string[]) => chartflowChild(home, args);

const verdictOf = (stdout: string) =>
  JSON.parse(stdout) as {
    ok: boolean;
    checked: number;
    counts: Record<string, number>;
    days: { chartDate: string; chartId: string; problems: { key: string; kind: string }[] }[];
    seals?: { sealed: { key: string; files: number }[]; skipped: unknown[] }[];
  };

describe('Command: chartflow verify, in a child process, on a home where a sandbox day ran', () => {
  let home: string;
  let store: FsObjectStore;
  const chartCsv = lakeKeys.chartCsv(chartDate, chartId);
  const manifestKey = lakeKeys.manifest(chartDate, chartId);
  const partsPrefix = rawPrefix('song_attributes', chartDate, chartId);
  const attributesPrefix = tablePrefix('song_attributes', chartDate, chartId);
  const keysUnder = async (prefix: string, suffix = '') =>
    (await store.list(prefix)).map((o) => o.key).filter((k) => k.endsWith(suffix));
  /** The parts' files: the CSVs in their tables' folders, the raw answers and markers under raw/. */
  const partFiles = async (which: 'attributes' | 'artists' | '.response.json' | '') =>
    which === 'attributes'
      ? keysUnder(attributesPrefix)
      : which === 'artists'
        ? keysUnder(tablePrefix('song_artists', chartDate, chartId))
        : keysUnder(partsPrefix, which);
  const planted = `${attributesPrefix}part-0123456789abcdef.csv`;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-verify-cli-'));
    const ran = await chartflow(home, 'run', '--date', chartDate, '--chart', chartId);
    expect(ran.code).toBe(0);
    store = new FsObjectStore({ root: parseLocalConfig({ CHARTFLOW_HOME: home }).lakeRoot });
  }, 600_000);
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('passes the day the run wrote: every file checked, exit 0', async () => {
    const result = await chartflow(home, 'verify');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`verify every chart in ${path.join(home, 'lake')}`);
    const parts = (await partFiles('attributes')).length;
    expect(parts).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe(`total: 1 day(s), ${2 + 3 * parts} file(s) checked, no problem`);
  }, 300_000);

  it('lists exactly the damaged, missing and unlisted files, and exits 1; restored, it passes again', async () => {
    const [attributes] = await partFiles('attributes');
    const [artists] = await partFiles('artists');
    const [response] = await partFiles('.response.json');
    const originals = new Map<string, Buffer>();
    for (const key of [chartCsv, attributes!, artists!, response!])
      originals.set(key, (await store.get(key))!);

    // Cut at a line boundary; a popularity edited in place; random bytes; deleted; a file nobody wrote.
    const chart = originals.get(chartCsv)!.toString('utf8');
    await store.put(chartCsv, chart.split('\n').slice(0, 20).join('\n') + '\n');
    const edited = originals
      .get(attributes!)!
      .toString('utf8')
      .replace(/,(\d\d),/, (_, n: string) => `,${n === '42' ? '43' : '42'},`);
    expect(edited).not.toBe(originals.get(attributes!)!.toString('utf8'));
    await store.put(attributes!, edited);
    const noise = Buffer.from(originals.get(response!)!);
    randomBytes(Math.min(400, noise.length)).copy(noise, 0);
    await store.put(response!, noise);
    await store.delete(artists!);
    await store.put(planted, 'planted');

    const json = await chartflow(home, 'verify', '--json');
    expect(json.code).toBe(1);
    const verdict = verdictOf(json.stdout);
    expect(verdict.ok).toBe(false);
    expect(verdict.days.flatMap((d) => d.problems).map(({ key, kind }) => ({ key, kind }))).toEqual(
      expect.arrayContaining([
        { key: chartCsv, kind: 'size' },
        { key: attributes!, kind: 'checksum' },
        { key: response!, kind: 'checksum' },
        { key: artists!, kind: 'missing' },
        { key: planted, kind: 'unlisted' },
      ]),
    );
    expect(verdict.days.flatMap((d) => d.problems)).toHaveLength(5);

    const human = await chartflow(home, 'verify', '--from', chartDate, '--to', chartDate, '--chart', chartId);
    expect(human.code).toBe(1);
    const lines = human.stdout.trim().split('\n');
    expect(lines.slice(1, -1)).toHaveLength(5);
    expect(lines.slice(1, -1)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${chartCsv}: size \\(\\d+ bytes, the manifest says \\d+\\)$`)),
        expect.stringMatching(new RegExp(`^${attributes!}: checksum \\(SHA-256 `)),
        expect.stringMatching(new RegExp(`^${response!}: checksum \\(SHA-256 `)),
        `${artists!}: missing (the file is gone)`,
        expect.stringMatching(/part-0123456789abcdef\.csv: unlisted /),
      ]),
    );
    expect(lines.at(-1)).toMatch(
      /^total: 1 day\(s\), \d+ file\(s\) checked, 1 missing, 1 size, 2 checksum, 1 unlisted/,
    );

    for (const [key, body] of originals) await store.put(key, body);
    await store.delete(planted);
    expect((await chartflow(home, 'verify')).code).toBe(0);
  }, 300_000);

  it('calls a day written before checksums unverified (exit 0, offering --seal); --seal records them once', async () => {
    const manifest = JSON.parse((await store.get(manifestKey))!.toString('utf8')) as Record<string, unknown>;
    delete manifest.files;
    await store.put(manifestKey, JSON.stringify(manifestSchema.parse(manifest)));
    const markers = await partFiles('');
    const emptied = markers.filter((k) => k.includes('/_done.'));
    for (const key of emptied) await store.put(key, '');

    const before = await chartflow(home, 'verify');
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(`${manifestKey}: unverified (`);
    expect(before.stdout).toContain('chartflow verify --seal records them once.');

    const sealed = await chartflow(home, 'verify', '--seal', '--json');
    expect(sealed.code).toBe(0);
    const verdict = verdictOf(sealed.stdout);
    expect(verdict.counts.unverified).toBe(0);
    expect(verdict.ok).toBe(true);
    expect(verdict.seals).toEqual([
      expect.objectContaining({
        sealed: expect.arrayContaining([
          { key: manifestKey, files: 2 },
          ...emptied.map((key) => ({ key, files: 3 })),
        ]),
        skipped: [],
      }),
    ]);
    expect(verdict.seals![0]!.sealed).toHaveLength(1 + emptied.length);

    // Once: a verified lake is not sealed again.
    const again = await chartflow(home, 'verify', '--seal');
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('sealed ');
    expect(again.stdout.trim().split('\n').at(-1)).toMatch(/no problem$/);
  }, 300_000);

  it('reads while another command holds the home; --seal, a writer, waits for it and gives up after --wait (exit 2)', async () => {
    // A live holder: this test process, as a run would be.
    const holder = {
      pid: process.pid,
      host: thisHost(),
      command: 'chartflow run --date 2026-08-01',
      since: new Date().toISOString(),
    };
    await writeFile(path.join(home, 'chartflow.lock'), JSON.stringify(holder));
    try {
      expect((await chartflow(home, 'verify')).code).toBe(0);
      const sealing = await chartflow(home, 'verify', '--seal', '--wait', '0');
      expect(sealing).toMatchObject({ code: 2, stdout: '' });
      expect(sealing.stderr).toContain(`is held by chartflow run --date 2026-08-01 (PID ${process.pid})`);
    } finally {
      await rm(path.join(home, 'chartflow.lock'), { force: true });
    }
  }, 300_000);

  it("passes after a re-run of the day: the earlier run's parts stay, listed and checked by their own markers", async () => {
    const before = verdictOf((await chartflow(home, 'verify', '--json')).stdout);
    const rerun = await chartflow(home, 'run', '--date', chartDate, '--chart', chartId);
    expect(rerun.code).toBe(0);
    const result = await chartflow(home, 'verify', '--json');
    expect(result.code).toBe(0);
    const after = verdictOf(result.stdout);
    expect(after.days.flatMap((d) => d.problems)).toEqual([]);
    // The new run's parts are checked beside the earlier run's, which a re-run never rewrites.
    expect(after.checked).toBeGreaterThan(before.checked);
    expect(after.checked).toBe(2 + 3 * (await partFiles('attributes')).length);
  }, 600_000);

  it('exits 2 for usage mistakes, before reading anything', async () => {
    const reversed = await chartflow(home, 'verify', '--from', '2026-08-02', '--to', '2026-08-01');
    expect(reversed).toMatchObject({ code: 2, stdout: '' });
    expect(reversed.stderr).toContain('--from must not be after --to.');
    const notADay = await chartflow(home, 'verify', '--from', '2026-02-30');
    expect(notADay.code).toBe(2);
    expect(notADay.stderr).toContain('2026-02-30 is not a day');
    const wait = await chartflow(home, 'verify', '--wait', '5');
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('--wait is for --seal');
  }, 300_000);
});
