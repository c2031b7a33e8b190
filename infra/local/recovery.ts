import path from 'node:path';
import type { Clock } from '../../shared/ports/clock.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { LockHolder, LockProcess, TransformLockOptions } from '../../shared/lake/transform-lock.js';
import type { BatchLoad } from '../../shared/lake/transform-batches.js';
import { BatchProtocol } from '../../shared/transform/batch-protocol.js';
import { stageSlices, uniqueSlices } from '../../shared/transform/stage-slices.js';
import { processIsAlive, thisHost } from './process-liveness.js';

/**
 * What an interrupted run leaves, and how the next one (or the interrupt itself) puts it right:
 * docs/reliability.md, "Interrupted runs". A run stopped part-way (Ctrl-C, a killed process) may
 * leave the transform lock naming a process that is gone, rows in the stage, and run records
 * `loaded` or `transforming` whose batch will never finish. Recovery cleans the stage, records
 * those runs `interrupted` (through the batch protocol, the only writer of run records), gives
 * the dead lock back, and says which days to load again.
 */

/** This process, as the transform lock names its holder. */
export const thisProcess = (argv: readonly string[] = process.argv): LockProcess => ({
  pid: process.pid,
  host: thisHost(),
  command: commandOf(argv),
});

/** "chartflow run" when the CLI runs, the script's name otherwise (a test). */
const commandOf = (argv: readonly string[]): string => {
  const script = path.basename(argv[1] ?? 'node');
  return script.startsWith('chartflow') && argv[2] ? `chartflow ${argv[2]}` : script;
};

/** Whether the lock's holder is that process (same pid on the same host). */
export const isProcess = (holder: LockHolder, process: LockProcess) =>
  holder.pid === process.pid && holder.host === process.host;

/** "process 1234 (chartflow run, since 2026-12-06T04:00:00.000Z)": who holds a lock, for people. */
export const describeHolder = (holder: LockHolder): string => {
  const what = [holder.command, `since ${holder.acquiredAt}`].filter(Boolean).join(', ');
  const host = holder.host && holder.host !== thisHost() ? ` on ${holder.host}` : '';
  return holder.pid === undefined ? `no named process (${what})` : `process ${holder.pid}${host} (${what})`;
};

/**
 * The transform lock's local options: this process is the holder, a holder's liveness is its
 * process's, and a takeover is told to the user. `selfGone` makes this process's own lock count as
 * dead: how an interrupt gives back what it held.
 */
export const localLockOptions = (
  self: LockProcess,
  note: (text: string) => void,
  extra: Pick<TransformLockOptions, 'onBusy'> & {
    selfGone?: boolean;
    /** How a holder's liveness is told; its process's, unless a caller models processes itself. */
    isAlive?: (holder: LockHolder) => boolean | undefined;
  } = {},
): TransformLockOptions => ({
  self,
  holderAlive: (holder) =>
    extra.selfGone && isProcess(holder, self) ? false : (extra.isAlive ?? processIsAlive)(holder),
  onTakeover: (previous) =>
    note(
      `chartflow: took over the transform lock of batch ${previous.batchId}: its ${describeHolder(previous)} is gone`,
    ),
  ...(extra.onBusy ? { onBusy: extra.onBusy } : {}),
});

export interface RecoveryParts {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly clock: Clock;
  readonly lock: TransformLockOptions;
}

/** What recovery found and did. */
export interface Recovered {
  /** A live holder of the lock: then nothing was touched, its work is under way. */
  readonly busy?: LockHolder;
  /** The dead holder whose lock was given back. */
  readonly releasedLock?: LockHolder;
  /** Loads recorded `interrupted`. */
  readonly interrupted: readonly BatchLoad[];
  /** Stage slices emptied (the interrupted loads', and any left without a record). */
  readonly stageSlices: number;
  /** The days whose newest load was interrupted (now, or by an earlier Ctrl-C), to load and transform again. */
  readonly days: readonly { chartId: string; chartDate: string }[];
}

/**
 * Puts right what an interrupted run left; touches nothing while a live process holds the lock.
 * Called on start, when no other writer may run on the home (its home lock), and by an interrupt.
 */
export const recoverInterrupted = async (parts: RecoveryParts, reason: string): Promise<Recovered> => {
  const protocol = new BatchProtocol(parts.store, parts.clock, parts.lock);
  const busy = await protocol.liveHolder();
  if (busy) return { busy, interrupted: [], stageSlices: 0, days: [] };
  const interrupted = await protocol.unfinished();
  // A home that never loaded has no stage to look at (nor a warehouse file, which looking would create).
  const loadedBefore = (await parts.store.list(claimsRoot)).length > 0;
  const leftover = loadedBefore ? await stageSlices(parts.warehouse) : [];
  const slices = uniqueSlices([...interrupted, ...leftover]);
  await parts.warehouse.cleanStage(slices);
  await protocol.recordInterrupted(interrupted, reason);
  const releasedLock = await protocol.releaseDeadLock();
  const days = await protocol.interruptedDays();
  return { ...(releasedLock ? { releasedLock } : {}), interrupted, stageSlices: slices.length, days };
};

/** One line on what recovery did, or `undefined` when there was nothing to do. */
export const describeRecovery = (recovered: Recovered): string | undefined => {
  const done: string[] = [];
  if (recovered.releasedLock)
    done.push(
      `released the transform lock of batch ${recovered.releasedLock.batchId}: its ${describeHolder(recovered.releasedLock)} is gone`,
    );
  if (recovered.stageSlices > 0) done.push(`cleaned ${plural(recovered.stageSlices, 'load')} from the stage`);
  if (recovered.interrupted.length > 0)
    done.push(`recorded ${plural(recovered.interrupted.length, 'run')} as interrupted`);
  if (recovered.days.length > 0)
    done.push(`loading again ${recovered.days.map((d) => `${d.chartDate} (chart ${d.chartId})`).join(', ')}`);
  return done.length > 0 ? `chartflow: an earlier run was interrupted: ${done.join('; ')}.` : undefined;
};

export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

const claimsRoot = 'control/claims/';
