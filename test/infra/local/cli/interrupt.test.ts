import { afterEach, describe, expect, it } from 'vitest';
import { stopCleanlyOnSignal } from '../../../../infra/local/cli/interrupt.js';
import type { Interrupted, LocalPipeline } from '../../../../infra/local/runtime.js';

/**
 * The signal handling of a writing command. The clean stop itself runs on real parts in
 * test/e2e/interrupted-runs.test.ts; here the pipeline's interrupt is held open, the one thing a
 * real run cannot be made to do on cue, to show that a second signal does not wait for it.
 */
describe('Function: stopCleanlyOnSignal', () => {
  let stop: () => void = () => undefined;
  afterEach(() => stop());
  const listen = (...args: Parameters<typeof stopCleanlyOnSignal>) => {
    const listener = stopCleanlyOnSignal(...args);
    stop = listener.stop;
    return listener;
  };

  const pipeline = (interrupt: () => Promise<Interrupted>) =>
    ({ interrupt, close: async () => undefined }) as unknown as LocalPipeline;

  it('stops cleanly on the first signal, says what it did, and exits 130', async () => {
    const exits: number[] = [];
    const notes: string[] = [];
    const done = new Promise<void>((resolve) => {
      listen(
        pipeline(async () => ({
          dbtStopped: 1,
          recovered: {
            interrupted: [{ runId: 'r', loadId: 'l', chartId: 'br', chartDate: '2026-08-01' }],
            stageSlices: 1,
            days: [],
          },
        })),
        (text) => notes.push(text),
        (code) => {
          exits.push(code);
          resolve();
        },
      );
    });
    process.emit('SIGTERM', 'SIGTERM');
    await done;
    expect(exits).toEqual([130]);
    expect(notes).toEqual([
      'chartflow: interrupted: stopped dbt, cleaned the stage, 1 run recorded as interrupted; the next run completes it.',
    ]);
  });

  it('exits at once on a second signal, while the first is still stopping', () => {
    const exits: number[] = [];
    listen(
      pipeline(() => new Promise<Interrupted>(() => undefined)),
      () => undefined,
      (code) => exits.push(code),
    );
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([]);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
  });

  it('holds the command’s own end until the clean stop has exited, and not at all without a signal', async () => {
    const events: string[] = [];
    const quiet = listen(
      pipeline(async () => ({ dbtStopped: 0, recovered: { interrupted: [], stageSlices: 0, days: [] } })),
      () => undefined,
      () => undefined,
    );
    await quiet.stopping();
    quiet.stop();
    let release: () => void = () => undefined;
    const signalled = listen(
      pipeline(async () => {
        await new Promise<void>((resolve) => (release = resolve));
        events.push('interrupted');
        return { dbtStopped: 1, recovered: { interrupted: [], stageSlices: 1, days: [] } };
      }),
      () => undefined,
      (code) => events.push(`exit ${code}`),
    );
    process.emit('SIGINT', 'SIGINT');
    // The interrupted run fails and its command ends: it must wait for the stop, not exit first.
    const ended = signalled.stopping().then(() => events.push('command ended'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual([]);
    release();
    await ended;
    expect(events).toEqual(['interrupted', 'exit 130', 'command ended']);
  });
});
