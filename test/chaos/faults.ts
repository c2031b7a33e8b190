import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SqsBatchHandler } from '../../infra/adapters/embedded/memory-queue.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PortWrappers } from '../../infra/local/runtime.js';
import { createRng, type Rng } from '../../infra/sandbox/prng.js';
import type {
  ObjectChecksum,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from '../../shared/ports/object-store.js';
import type { OutgoingMessage, Queue } from '../../shared/ports/queue.js';
import type { TransformRequest, TransformRunner } from '../../shared/ports/transform-runner.js';
import type { SqlValue, StageLoad, StageSlice, Warehouse } from '../../shared/ports/warehouse.js';
import type { Fault, FaultKind } from './scenario.js';

/** What an injected fault throws: a port that failed, as an outage or a refused request would. */
export class InjectedFaultError extends Error {
  constructor(kind: FaultKind, what: string) {
    super(`chaos: ${kind} on ${what}`);
    this.name = 'InjectedFaultError';
  }
}

/** What every port call of a process modelled as killed throws: it is gone, it does nothing more. */
export class ProcessGoneError extends Error {
  constructor(what: string) {
    super(`chaos: the process is gone (${what})`);
    this.name = 'ProcessGoneError';
  }
}

/** The process faults' trigger: what the scenario runner does when one strikes. */
export interface ProcessFaultHandler {
  kill(): void;
  interrupt(): void;
}

/**
 * Decides, port call by port call, which faults fire: the faults of the operation under way are
 * armed, each counts the calls it matches and fires on the `at`-th and the `times - 1` after it.
 * Counts what it injected per kind, for the report. Shared by the scenario's processes, each of
 * which has its own life ({@link ProcessFaults}).
 */
export class FaultInjector {
  readonly injected = new Map<FaultKind, number>();
  readonly rng: Rng;
  #armed: { fault: Fault; seen: number }[] = [];
  #portCalls = 0;
  #onProcessFault: ProcessFaultHandler | undefined;

  constructor(seed: number) {
    this.rng = createRng(seed ^ 0x5eed);
  }

  /** Arms the faults of one operation; those of the one before are disarmed. */
  arm(faults: readonly Fault[], onProcessFault: ProcessFaultHandler): void {
    this.#armed = faults.map((fault) => ({ fault, seen: 0 }));
    this.#portCalls = 0;
    this.#onProcessFault = onProcessFault;
  }

  disarm(): void {
    this.#armed = [];
  }

  count(kind: FaultKind): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
  }

  /** Whether a fault of this kind fires on this matching call; counts it if so. */
  fires(kind: FaultKind): Fault | undefined {
    const armed = this.#armed.find((a) => a.fault.kind === kind);
    if (!armed) return undefined;
    armed.seen += 1;
    const { at, times } = armed.fault;
    if (armed.seen < at || armed.seen >= at + times) return undefined;
    this.count(kind);
    return armed.fault;
  }

  /**
   * A port call of a live process: a process fault counted by port calls may strike on it (one
   * timed by the clock strikes through {@link strike}).
   */
  portCall(what: string, process: ProcessFaults): void {
    this.#portCalls += 1;
    for (const armed of this.#armed) {
      const { kind, at, after } = armed.fault;
      if (!kind.startsWith('process.') || after || this.#portCalls !== at) continue;
      if (this.strike(armed.fault, process)) throw new ProcessGoneError(what);
    }
  }

  /** A process fault strikes: a kill makes the process gone (answers `true`), an interrupt starts. */
  strike(fault: Fault, process: ProcessFaults): boolean {
    this.count(fault.kind);
    if (fault.kind === 'process.sigkill') {
      process.die();
      this.#onProcessFault?.kill();
      return true;
    }
    this.#onProcessFault?.interrupt();
    return false;
  }
}

/**
 * The faults as one process (one pipeline instance) meets them. Once it is gone (killed, or exited
 * after an interrupt), every port call it still makes throws: a dead process does nothing more.
 */
export class ProcessFaults {
  #gone = false;

  constructor(readonly injector: FaultInjector) {}

  get rng(): Rng {
    return this.injector.rng;
  }

  die(): void {
    this.#gone = true;
  }

  /** Every port call goes through here first. */
  enter(what: string): void {
    if (this.#gone) throw new ProcessGoneError(what);
    this.injector.portCall(what, this);
  }

  fires(kind: FaultKind): Fault | undefined {
    return this.injector.fires(kind);
  }
}

const exec = promisify(execFile);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const truncated = (body: string | Uint8Array, rng: Rng): Buffer => {
  const bytes = Buffer.from(body);
  return bytes.subarray(0, rng.int(0, Math.max(0, bytes.length - 1)));
};

/**
 * The object store with faults: writes that fail, reads and listings that fail, calls held back,
 * and partial writes (a truncated body written, then an error, as a writer that died mid-upload
 * on a store without atomic puts would leave; S3 never does, the folder store could).
 */
export class FaultyStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly faults: ProcessFaults,
  ) {}

  async #before(what: string, kind: 'write' | 'read'): Promise<void> {
    this.faults.enter(what);
    const delay = this.faults.fires('store.delay');
    if (delay) await sleep(delay.param);
    const failure = kind === 'write' ? 'store.put-error' : 'store.get-error';
    if (this.faults.fires(failure)) throw new InjectedFaultError(failure, what);
  }

  async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void> {
    await this.#before(`put ${key}`, 'write');
    if (this.faults.fires('store.partial-write')) {
      await this.inner.put(key, truncated(body, this.faults.rng), options);
      throw new InjectedFaultError('store.partial-write', `put ${key}`);
    }
    return this.inner.put(key, body, options);
  }

  async createIfAbsent(key: string, body: string | Uint8Array, options?: PutOptions): Promise<boolean> {
    await this.#before(`create ${key}`, 'write');
    return this.inner.createIfAbsent(key, body, options);
  }

  async get(key: string): Promise<Buffer | undefined> {
    await this.#before(`get ${key}`, 'read');
    return this.inner.get(key);
  }

  async getWithEtag(key: string): Promise<VersionedObject | undefined> {
    await this.#before(`get ${key}`, 'read');
    return this.inner.getWithEtag(key);
  }

  async replaceIfMatch(
    key: string,
    body: string | Uint8Array,
    etag: string,
    options?: PutOptions,
  ): Promise<boolean> {
    await this.#before(`replace ${key}`, 'write');
    return this.inner.replaceIfMatch(key, body, etag, options);
  }

  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    await this.#before(`delete ${key}`, 'write');
    return this.inner.deleteIfMatch(key, etag);
  }

  async checksum(key: string): Promise<ObjectChecksum | undefined> {
    await this.#before(`checksum ${key}`, 'read');
    return this.inner.checksum(key);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    await this.#before(`list ${prefix}`, 'read');
    return this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    await this.#before(`delete ${key}`, 'write');
    return this.inner.delete(key);
  }

  async touch(key: string): Promise<void> {
    await this.#before(`touch ${key}`, 'write');
    return this.inner.touch(key);
  }
}

/**
 * The warehouse with faults: a COPY, a check query or a clean-up that fails, before the work or
 * after it (the statement committed, its answer lost).
 */
export class FaultyWarehouse implements Warehouse {
  constructor(
    private readonly inner: Warehouse,
    private readonly faults: ProcessFaults,
  ) {}

  async #guard<T>(kind: FaultKind, what: string, work: () => Promise<T>): Promise<T> {
    this.faults.enter(what);
    const fault = this.faults.fires(kind);
    if (fault && !fault.after) throw new InjectedFaultError(kind, what);
    const result = await work();
    if (fault) throw new InjectedFaultError(kind, `${what}, after it committed`);
    return result;
  }

  ensureStage(): Promise<void> {
    this.faults.enter('ensure the stage');
    return this.inner.ensureStage();
  }

  loadStage(load: StageLoad) {
    return this.#guard('warehouse.copy-error', `COPY of ${load.chartDate}`, () => this.inner.loadStage(load));
  }

  query<R extends Record<string, unknown>>(sql: string, params?: Record<string, SqlValue>): Promise<R[]> {
    return this.#guard('warehouse.check-error', 'a query', () => this.inner.query<R>(sql, params));
  }

  cleanStage(slices: readonly StageSlice[]): Promise<void> {
    return this.#guard('warehouse.cleanup-error', 'the stage clean-up', () => this.inner.cleanStage(slices));
  }
}

/**
 * The dbt workers this process started for a home, by pid: each the leader of its own process
 * group (infra/adapters/embedded/dbt-worker.ts), told apart by the home in their arguments.
 */
const dbtProcessesOf = async (home: string): Promise<number[]> => {
  const { stdout } = await exec('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).catch(() => ({
    stdout: '',
  }));
  return stdout
    .split('\n')
    .filter((line) => /dbt_worker\.py/.test(line) && line.includes(home))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
};

/**
 * The transform runner with faults: dbt that cannot start, or that is killed part-way by someone
 * else (SIGKILL to its process group, as the OOM killer or a stopped container does): dbt ends
 * failed and the runner reports it as any failed build.
 */
export class FaultyRunner implements TransformRunner {
  constructor(
    private readonly inner: TransformRunner,
    private readonly faults: ProcessFaults,
    private readonly home: string,
  ) {}

  async start(request: TransformRequest): Promise<{ readonly taskId: string }> {
    this.faults.enter(`start dbt for ${request.batchId}`);
    if (this.faults.fires('dbt.fail')) throw new InjectedFaultError('dbt.fail', `dbt for ${request.batchId}`);
    const killed = this.faults.fires('dbt.killed');
    const started = await this.inner.start(request);
    if (killed) setTimeout(() => void this.#kill(), killed.param).unref();
    return started;
  }

  async #kill(): Promise<void> {
    for (const pid of await dbtProcessesOf(this.home)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Ended in between.
      }
    }
  }
}

/** The track queue's sending side with faults: messages sent twice, or in another order. */
export class FaultyQueue implements Queue {
  constructor(
    private readonly inner: Queue,
    private readonly faults: ProcessFaults,
  ) {}

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    this.faults.enter('send to the track queue');
    const ordered = this.faults.fires('queue.reorder') ? shuffled(messages, this.faults.rng) : messages;
    await this.inner.send(ordered);
    if (this.faults.fires('queue.duplicate')) await this.inner.send(shuffled(ordered, this.faults.rng));
  }

  changeVisibility(receiptHandle: string, timeoutSeconds: number): Promise<void> {
    this.faults.enter('change visibility');
    return this.inner.changeVisibility(receiptHandle, timeoutSeconds);
  }
}

const shuffled = <T>(items: readonly T[], rng: Rng): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = rng.int(0, i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
};

/**
 * A queue consumer with faults: a batch delivered in another order, or handled and then reported
 * failed for some of its messages, so that the queue delivers them again (a Lambda that timed out
 * after its work, as SQS sees it).
 */
const faultyConsumer =
  (faults: ProcessFaults) =>
  (_queue: string, handler: SqsBatchHandler): SqsBatchHandler =>
  async (event: SQSEvent): Promise<SQSBatchResponse | void> => {
    const records = faults.fires('queue.reorder') ? shuffled(event.Records, faults.rng) : event.Records;
    const response = await handler({ Records: records });
    if (!faults.fires('queue.redelivery')) return response;
    const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    for (const record of records) if (faults.rng.chance(0.5)) failed.add(record.messageId);
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  };

/** The port wrappers of one pipeline instance, all reporting to one injector. */
export const faultyPorts = (faults: ProcessFaults, home: string): Omit<PortWrappers, 'process'> => ({
  store: (store) => new FaultyStore(store, faults),
  warehouse: (warehouse) => new FaultyWarehouse(warehouse, faults),
  transformRunner: (runner) => new FaultyRunner(runner, faults, home),
  trackQueue: (queue) => new FaultyQueue(queue, faults),
  consumer: faultyConsumer(faults),
});
