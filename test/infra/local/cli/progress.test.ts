import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { startDayProgress } from '../../../../infra/local/cli/progress.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { systemClock } from '../../../../shared/ports/clock.js';

/** A terminal as cli-progress sees one: a stream that says it is a TTY, and keeps what it was given. */
const terminal = () => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 160, rows: 40 });
  // What the terminal shows: escape sequences dropped, each redraw of the line on its own line.
  const shown = () =>
    chunks
      .join('')
      // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are what is dropped
      .replace(/\x1b\[\?\d+[hl]|\x1b\[\d*[GK]/g, '\n')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  return { stream, shown };
};

const context = (notes: string[], progressStream?: NodeJS.WriteStream): CliContext => ({
  config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent' }),
  clock: systemClock,
  processEnv: {},
  out: () => undefined,
  note: (line) => notes.push(line),
  ...(progressStream ? { progressStream } : {}),
});

describe('Function: startDayProgress', () => {
  it('on a terminal, draws one bar: days done of the total, time left, the phase; notes print above it', async () => {
    const notes: string[] = [];
    const { stream, shown } = terminal();
    const progress = startDayProgress(context(notes, stream), { total: 4, json: false });
    progress.phase('loading 4 chart day(s)', true);
    progress.dayDone('chartflow: [1/4] global 2026-11-01: loaded');
    progress.phase('enriching 120/200');
    progress.dayDone('chartflow: [2/4] global 2026-11-02: loaded');
    progress.note('chartflow: a note that is not progress');
    // The bar redraws on a timer (5 a second): let it draw what it was told.
    await new Promise((resolve) => setTimeout(resolve, 450));
    progress.stop();
    const lines = shown();
    expect(lines).toContainEqual(
      expect.stringMatching(/^chartflow \S+ 2\/4 days \| \d+s so far, \S+ left \| enriching 120\/200$/),
    );
    expect(lines).toContain('chartflow: a note that is not progress');
    // The days' own lines are the bar's business on a terminal, not lines of their own.
    expect(lines.join('\n')).not.toContain('[1/4]');
    expect(notes).toEqual([]);
  });

  it('without a terminal, prints a line per day and a line per lasting phase, nothing for passing ones', () => {
    const notes: string[] = [];
    const progress = startDayProgress(context(notes), { total: 2, json: false });
    progress.phase('loading 2 chart day(s)', true);
    progress.phase('enriching 120/200');
    progress.dayDone('chartflow: [1/2] global 2026-11-01: loaded');
    progress.dayDone('chartflow: [2/2] global 2026-11-02: loaded');
    progress.phase('transforming them in one dbt build', true);
    progress.stop();
    expect(notes).toEqual([
      'chartflow: loading 2 chart day(s)',
      'chartflow: [1/2] global 2026-11-01: loaded',
      'chartflow: [2/2] global 2026-11-02: loaded',
      'chartflow: transforming them in one dbt build',
    ]);
  });

  it('with --json, says nothing of progress, on a terminal or not; notes still go to standard error', () => {
    const notes: string[] = [];
    const { stream, shown } = terminal();
    const progress = startDayProgress(context(notes, stream), { total: 2, json: true });
    progress.phase('loading', true);
    progress.dayDone('chartflow: [1/2] global 2026-11-01: loaded');
    progress.note('chartflow: waiting for the home');
    progress.stop();
    expect(shown()).toEqual([]);
    expect(notes).toEqual(['chartflow: waiting for the home']);
  });
});
