import type {
  Clock,
  EventBus,
  LoaderTrigger,
  ObjectInfo,
  ObjectStore,
  Warehouse,
} from '../../shared/ports/index.js';
import type { LockState, TransformLockOptions } from '../../shared/lake/transform-lock.js';
import { freshnessHours, type Metrics } from '../../shared/ports/metrics.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { TransformBatches } from '../../shared/lake/transform-batches.js';
import { BatchProtocol } from '../../shared/transform/batch-protocol.js';
import type { Action, ActionKind, Finding, LeftAlone } from './report.js';

/** How patient the reconciler is with what may still be under way (docs/reliability.md, "The reconciler"). */
export interface ReconcilerSettings {
  /**
   * How long a state may be someone's work in progress before it is taken for a lost event: a day's
   * objects still arriving, a load waiting for its transform, a claim just made.
   */
  readonly graceMs: number;
  /** After its manifest is written, how long a day's track messages may still arrive (deliveries × visibility timeout). */
  readonly tracksGoneAfterMs: number;
  /**
   * What became of track messages that can no longer arrive: dead-lettered (AWS: the queue's
   * redrive), or lost with the process that held them (one machine: its queue lives in the process).
   */
  readonly missingTracks: 'dead_lettered' | 'lost';
  /**
   * How long the transform lock must stay free before a load's or a batch's event is put again: a
   * message that a busy warehouse handed back comes back within it (transform's hand-back), takes
   * the lock, and is seen. Putting an event again while its first copy is being checked could start
   * two builds of one batch; so each such repair waits this long once, then looks again.
   */
  readonly quietLockMs: number;
  /** A chart whose last successful run ended longer ago than this is stale. */
  readonly staleAfterMs: number;
  /** The days looked at when no range is given: this many, up to today. */
  readonly defaultDays: number;
}

/** 15 minutes of grace, 26 hours to stale, the last 7 days; `tracksGoneAfterMs` is the runtime's to say. */
export const defaultReconcilerSettings = {
  graceMs: 15 * 60_000,
  staleAfterMs: freshnessHours * 60 * 60_000,
  defaultDays: 7,
} as const satisfies Partial<ReconcilerSettings>;

/** What the reconciler works on: ports only. */
export interface ReconcilerDeps {
  readonly store: ObjectStore;
  /** For the stage's rows (which loads it holds) and their clean-up. */
  readonly warehouse: Warehouse;
  /** Where "Stage Loaded" and "Transform Requested" are put again. */
  readonly bus: EventBus;
  readonly clock: Clock;
  /** How a lost ObjectCreated is delivered to the stage loader again. */
  readonly loader: LoaderTrigger;
  /** The configured charts, whose freshness is reported. */
  readonly charts: readonly string[];
  readonly settings: ReconcilerSettings;
  /** The transform lock's options (locally: how to tell its holder lives); none on AWS: the TTL. */
  readonly lock?: TransformLockOptions;
  /** Where the stale charts and the runs it records `not_loaded` are counted; none unless given. */
  readonly metrics?: Metrics;
}

/** A finding and how to repair it, not yet done (a dry run only reports the finding). */
export interface Planned {
  readonly finding: Finding;
  /** The action a failed repair is reported as. */
  readonly action: ActionKind;
  readonly repair: () => Promise<Action[]>;
}

/** One reconcile's view of the lake and the warehouse, and what it has planned so far. */
export interface Scan {
  readonly deps: ReconcilerDeps;
  readonly protocol: BatchProtocol;
  readonly records: RunRecords;
  readonly batches: TransformBatches;
  readonly now: number;
  /** The transform lock as it was first read, before anything else. */
  readonly lock: LockState | undefined;
  readonly leftAlone: LeftAlone[];
  /** Batches whose stuck transform is planned, so that it is found once. */
  readonly stuckBatches: Set<string>;
  /** Stage slices a planned repair empties (`run/chart/date`). */
  readonly cleanedSlices: Set<string>;
  /** Resolves once the lock has had {@link ReconcilerSettings.quietLockMs} to show a waiting event (waited once). */
  readonly quiet: () => Promise<void>;
}

export const newScan = async (deps: ReconcilerDeps): Promise<Scan> => {
  const protocol = new BatchProtocol(deps.store, deps.clock, deps.lock);
  return {
    deps,
    protocol,
    records: new RunRecords(deps.store),
    batches: new TransformBatches(deps.store),
    now: deps.clock.now().getTime(),
    lock: await protocol.lockState(),
    leftAlone: [],
    stuckBatches: new Set(),
    cleanedSlices: new Set(),
    quiet: once(() => deps.clock.sleep(deps.settings.quietLockMs)),
  };
};

const once = (work: () => Promise<void>): (() => Promise<void>) => {
  let done: Promise<void> | undefined;
  return () => (done ??= work());
};

/**
 * Whether an event may be put again now: after the quiet wait, nobody holds the lock alive and the
 * load is still `loaded` (its own event did not come back and start it meanwhile).
 */
export const stillUntransformed = async (
  scan: Scan,
  load: { chartId: string; chartDate: string; runId: string; loadId: string },
): Promise<boolean> => {
  await scan.quiet();
  const lock = await scan.protocol.lockState();
  if (lock?.holder && !lock.free) return false;
  return (await scan.records.read(load, load.runId, load.loadId))?.status === 'loaded';
};

/** Whether a time (ISO text, or a Date) is further back than the grace period. */
export const pastGrace = (scan: Scan, when: string | Date): boolean =>
  scan.now - new Date(when).getTime() > scan.deps.settings.graceMs;

/** Whether a batch holds the transform lock and may not be disturbed (alive, or within the TTL). */
export const holdsLiveLock = (scan: Scan, batchId: string | undefined): boolean =>
  batchId !== undefined && scan.lock?.holder?.batchId === batchId && !scan.lock.free;

export const sliceKey = (slice: { runId: string; chartId: string; chartDate: string }): string =>
  `${slice.runId}/${slice.chartId}/${slice.chartDate}`;

/** The listing entry of one key, if the store holds it. */
export const objectInfo = async (store: ObjectStore, key: string): Promise<ObjectInfo | undefined> =>
  (await store.list(key)).find((o) => o.key === key);
