import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import type { Clock } from '../../../../shared/ports/clock.js';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';

const fixedClock: Clock = { now: () => new Date('2026-11-22T10:00:00Z'), sleep: async () => undefined };

describe('Function: chartflow CLI (argument and configuration errors)', () => {
  let root: string;
  let home: string;
  let out: string[];
  let notes: string[];

  const context = (env: Record<string, string> = {}): CliContext => ({
    config: () => parseLocalConfig({ CHARTFLOW_HOME: home, ...env }),
    clock: fixedClock,
    processEnv: {},
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
  });
  const chartflow = (args: string[], env?: Record<string, string>) =>
    main(['node', 'chartflow', ...args], context(env));

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-cli-'));
    home = path.join(root, 'home');
    out = [];
    notes = [];
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const expectRefused = (code: number, pattern: RegExp) => {
    expect(code).toBe(2);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(pattern);
    // One sentence: a single line that ends with a full stop.
    expect(notes[0]).toMatch(/^chartflow: [^\n]+\.$/);
    expect(existsSync(home)).toBe(false);
  };

  it('refuses an unknown flag', async () => {
    expectRefused(await chartflow(['run', '--dates', '2026-11-20']), /unknown option '--dates'/i);
  });

  it('refuses a malformed date', async () => {
    expectRefused(await chartflow(['run', '--date', '2026-13-40']), /--date must be a date as YYYY-MM-DD/);
  });

  it('refuses a day that its month does not have, saying how many days the month has', async () => {
    expectRefused(
      await chartflow(['run', '--date', '2026-02-30']),
      /^chartflow: --date 2026-02-30 is not a day \(February 2026 has 28 days\)\.$/,
    );
    notes = [];
    expectRefused(
      await chartflow(['backfill', '--from', '2024-04-31', '--to', '2024-05-02']),
      /^chartflow: --from 2024-04-31 is not a day \(April 2024 has 30 days\)\.$/,
    );
  });

  it('refuses a date in the future', async () => {
    expectRefused(await chartflow(['run', '--date', '2026-11-23']), /--date cannot be in the future/);
  });

  it('refuses a missing credential, naming it', async () => {
    expectRefused(
      await chartflow(['run'], { SPOTIFY_CLIENT_ID: 'abc' }),
      /SPOTIFY_CLIENT_SECRET is required/,
    );
  });

  it('refuses a chart the source does not have', async () => {
    expectRefused(
      await chartflow(['run', '--chart', 'atlantis']),
      /--chart atlantis is not a configured chart/,
    );
  });

  it('names the sandbox’s charts, the catalog sample among them, when it refuses one', async () => {
    expectRefused(
      await chartflow(['run', '--chart', 'atlantis']),
      /\(known: global, us, gb, br, catalog-sample\)\.$/,
    );
  });

  it('refuses a backfill whose range runs backwards', async () => {
    expectRefused(
      await chartflow(['backfill', '--from', '2026-11-10', '--to', '2026-11-01']),
      /--from must not be after --to/,
    );
  });

  it('refuses a replay without its date', async () => {
    expectRefused(await chartflow(['replay']), /required option '--date/i);
  });

  it.each([
    ['-1', /^chartflow: --wait: must be a whole number of seconds \(0: do not wait\)\.$/],
    ['1.5', /^chartflow: --wait: must be a whole number of seconds \(0: do not wait\)\.$/],
    ['soon', /^chartflow: --wait: must be a whole number of seconds \(0: do not wait\)\.$/],
    ['90000', /^chartflow: --wait: must be at most 86400 \(a day\)\.$/],
  ])('refuses --wait %s, before anything is written', async (wait, message) => {
    for (const command of [
      ['run', '--date', '2026-11-20'],
      ['backfill', '--from', '2026-11-01', '--to', '2026-11-02'],
      ['replay', '--date', '2026-11-20'],
      ['ingest', path.join(root, 'none.csv')],
    ]) {
      notes = [];
      expectRefused(await chartflow([...command, '--wait', wait]), message);
    }
  });

  it('refuses an extra argument', async () => {
    expectRefused(await chartflow(['run', 'yesterday']), /too many arguments/i);
  });
});
