import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartflowChild, expectRefusal, filesUnder } from '../../../support/chartflow-child.js';

/**
 * Every command's bad arguments, given to `node bin/chartflow.js` as a user would: exit 2, one
 * sentence naming the option and what is wrong, no stack trace, and nothing written. The in-process
 * refusals of main.test.ts, ingest-cli.test.ts and status.test.ts cover the others (docs/inputs.md).
 */
describe('Command: chartflow, refusing bad arguments in a child process', () => {
  let root: string;
  let home: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-bad-arguments-'));
    home = path.join(root, 'home');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it.each([
    ['an unknown command', ['frobnicate'], /^chartflow: Unknown command 'frobnicate'\.$/],
    ['an option without its value', ['run', '--date'], /Option '--date <YYYY-MM-DD>' argument missing\./],
    [
      'a required option left out',
      ['backfill', '--from', '2026-01-01'],
      /Required option '--to <YYYY-MM-DD>'/,
    ],
    [
      'a backfill of more than 400 days',
      ['backfill', '--from', '2025-01-01', '--to', '2026-02-05'],
      /^chartflow: --to: a backfill covers at most 400 days\.$/,
    ],
    [
      'a chart id that is not one',
      ['retry-missing', '--chart', 'Global'],
      /^chartflow: --chart: a chart id is lowercase letters, digits and -\.$/,
    ],
    [
      'a day its month does not have',
      ['retry-missing', '--date', '2026-02-30'],
      /^chartflow: --date 2026-02-30 is not a day \(February 2026 has 28 days\)\.$/,
    ],
    [
      'a --date that is no date',
      ['status', '--date', 'tomorrow'],
      /^chartflow: --date must be a date as YYYY-MM-DD\.$/,
    ],
    ['an unknown target', ['status', '--target', 'mars'], /^chartflow: --target: must be embedded or aws\.$/],
    [
      'an AWS option without --target aws',
      ['status', '--stage', 'prod'],
      /^chartflow: --stage is for --target aws only\.$/,
    ],
    [
      'a region that is not one',
      ['status', '--target', 'aws', '--region', 'moon'],
      /^chartflow: --region: must be an AWS region such as eu-west-1\.$/,
    ],
    [
      'seconds to --wait with --target aws',
      ['replay', '--date', '2026-11-01', '--target', 'aws', '--region', 'eu-west-1', '--wait', '5'],
      /^chartflow: With --target aws, --wait takes no seconds/,
    ],
    [
      '--wait without seconds on this machine',
      ['replay', '--date', '2026-11-01', '--wait'],
      /^chartflow: --wait on this machine takes seconds/,
    ],
    ['a port out of range', ['sandbox', '--port', '99999'], /^chartflow: --port must be 0 to 65535\.$/],
    [
      'a fault of an unknown provider',
      ['sandbox', '--fault', 'spotfy:5xx'],
      /^chartflow: --fault spotfy:5xx: "spotfy" is not a provider \(spotify, reccobeats\)\.$/,
    ],
    [
      'failing tracks of an unknown provider',
      ['sandbox', '--fail-tracks', 'abc@nowhere'],
      /^chartflow: --fail-tracks abc@nowhere: "nowhere" is not a provider/,
    ],
    [
      'a chart file that does not exist',
      ['ingest', '/nonexistent/regional-global-daily-2026-11-01.csv'],
      /^chartflow: "\/nonexistent\/regional-global-daily-2026-11-01\.csv" does not exist\.$/,
    ],
  ])('refuses %s: exit 2, one sentence, nothing written', async (_what, args, sentence) => {
    const run = await chartflowChild(home, args);
    expectRefusal(run, 2, sentence);
    expect(existsSync(home)).toBe(false);
  });

  it('refuses to replay a day the lake does not have, naming it, and leaves the lake empty', async () => {
    const run = await chartflowChild(home, ['replay', '--date', '2026-11-01', '--chart', 'global']);
    expectRefusal(
      run,
      2,
      /^chartflow: There is nothing to replay for global on 2026-11-01: the lake has no such day\.$/,
    );
    // The home was taken (and given back) to look; the lake holds nothing, and no lock is left.
    expect(await filesUnder(path.join(home, 'lake'))).toEqual([]);
    expect(existsSync(path.join(home, 'chartflow.lock'))).toBe(false);
  });
});
