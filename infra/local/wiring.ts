import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Clock } from '../../shared/ports/clock.js';
import type { EventBridgeEnvelope } from '../../shared/events/bus-event.js';
import { logger } from '../../shared/logger.js';
import { LocalEventBus, type StackReferences } from '../adapters/embedded/local-event-bus.js';
import { MemoryQueue, type SqsBatchHandler } from '../adapters/embedded/memory-queue.js';
import { decodeS3Key } from '../../shared/events/s3-keys.js';
import {
  matchesKeyFilter,
  topology as declared,
  triggersOf,
  type FunctionName,
  type QueueDeclaration,
  type QueueName,
  type RuleName,
  type Topology,
} from '../topology.js';
import { AsyncInvoker } from './async-invoker.js';
import { localMs, localTimeScale, scaledRetry } from './time-scale.js';

/** A function as the wiring invokes it: the handler with its local context, taking any event. */
export type LocalFunction = (event: unknown) => Promise<unknown>;

/** The functions the wiring connects; those without a trigger (warehouseSetup) may be absent. */
export type LocalFunctions = Readonly<Partial<Record<FunctionName, LocalFunction>>>;

/** A queue's settings on this machine, in local milliseconds: the declared ones on the time scale. */
export interface LocalQueueSettings {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
}

export interface LocalWiringOptions {
  readonly clock: Clock;
  /** The local ARNs of the stack resources event patterns name (the dbt runner's cluster and task). */
  readonly references: StackReferences;
  /** Local milliseconds per declared millisecond; {@link localTimeScale} unless a test says otherwise. */
  readonly timeScale?: number;
  /** Settings a test tunes for a queue, in local milliseconds; on top of the scaled declared ones. */
  readonly overrides?: Partial<Record<QueueName, Partial<LocalQueueSettings>>>;
  readonly topology?: Topology;
  /**
   * Wraps each queue's consumer as its event source mapping calls it (test/chaos: reordered and
   * redelivered batches, docs/chaos.md); the function itself unless given.
   */
  readonly consumer?: (queue: QueueName, handler: SqsBatchHandler) => SqsBatchHandler;
}

const queueNames = (t: Topology) => Object.keys(t.queues) as QueueName[];
const ruleNames = (t: Topology) => Object.keys(t.rules) as RuleName[];

/** The event source mapping that drains a queue: the one `sqs` trigger naming it. */
const mappingOf = (t: Topology, queue: QueueName) => {
  const found = triggersOf(t).find(({ trigger }) => trigger.kind === 'sqs' && trigger.queue === queue);
  if (!found || found.trigger.kind !== 'sqs') throw new Error(`the topology has no consumer for ${queue}`);
  return { fn: found.fn, mapping: found.trigger };
};

/** A queue's declared settings and its mapping's, on the local time scale. */
export const localQueueSettings = (
  t: Topology,
  queue: QueueName,
  timeScale = localTimeScale,
): LocalQueueSettings => {
  const declaration: QueueDeclaration = t.queues[queue];
  const { mapping } = mappingOf(t, queue);
  return {
    batchSize: mapping.batchSize,
    batchingWindowMs: localMs(mapping.maximumBatchingWindowSeconds, timeScale),
    visibilityTimeoutMs: localMs(declaration.visibilityTimeoutSeconds, timeScale),
    maxReceiveCount: declaration.maxReceiveCount,
    maxConcurrency: mapping.maximumConcurrency,
  };
};

/**
 * The topology on one machine: each trigger of infra/topology.ts connects an embedded part to its
 * function, as AWS connects the real ones. Bucket notifications invoke by their prefix and suffix,
 * the schedule's function is the CLI's to start, each queue feeds its consumer with its declared
 * settings (on the local time scale), and each EventBridge rule routes what its pattern matches to
 * its target: a queue, or a function invoked asynchronously. Asynchronous invocations retry by the
 * topology's policy, then land in `asyncFailures`, the on-failure destination, as Lambda's record;
 * an event a rule cannot deliver to its target lands in `eventDeadLetters`, as on AWS.
 *
 * Built in two steps, because the parts the functions need (the queues, the bus) come from here:
 * construct it, build the functions on its parts, then {@link LocalWiring.connect} them.
 */
export class LocalWiring {
  readonly invoker: AsyncInvoker;
  readonly bus: LocalEventBus;
  readonly queues: Readonly<Record<QueueName, MemoryQueue>>;
  readonly deadLetters: Readonly<Record<QueueName, MemoryQueue>>;
  /** The asynchronous invocations' on-failure destination (topology.asyncInvoke.onFailure). */
  readonly asyncFailures: MemoryQueue;
  /** What a rule could not deliver to its target (topology.ruleDelivery.deadLetterQueue). */
  readonly eventDeadLetters: MemoryQueue;
  /** Each queue's local settings, as its consumer should know them (maxReceiveCount). */
  readonly queueSettings: Readonly<Record<QueueName, LocalQueueSettings>>;
  readonly #topology: Topology;
  readonly #consumer: NonNullable<LocalWiringOptions['consumer']>;
  #functions: LocalFunctions | undefined;

  constructor(options: LocalWiringOptions) {
    const t = options.topology ?? declared;
    const timeScale = options.timeScale ?? localTimeScale;
    this.#topology = t;
    this.#consumer = options.consumer ?? ((_queue, handler) => handler);
    this.asyncFailures = new MemoryQueue({ name: `chartflow-${t.asyncInvoke.onFailure.nameSuffix}` });
    this.eventDeadLetters = new MemoryQueue({
      name: `chartflow-${t.ruleDelivery.deadLetterQueue.nameSuffix}`,
    });
    this.invoker = new AsyncInvoker(
      options.clock,
      {
        ...scaledRetry(t.asyncRetry, timeScale),
        maximumEventAgeMs: localMs(t.asyncInvoke.maximumEventAgeSeconds, timeScale),
      },
      (record) =>
        this.asyncFailures.send([
          { id: record.requestContext.requestId.replace(/-/g, ''), body: JSON.stringify(record) },
        ]),
    );
    this.bus = new LocalEventBus(options.clock, options.references);
    const queues = {} as Record<QueueName, MemoryQueue>;
    const deadLetters = {} as Record<QueueName, MemoryQueue>;
    const settings = {} as Record<QueueName, LocalQueueSettings>;
    for (const name of queueNames(t)) {
      const declaration: QueueDeclaration = t.queues[name];
      settings[name] = { ...localQueueSettings(t, name, timeScale), ...options.overrides?.[name] };
      deadLetters[name] = new MemoryQueue({ name: `chartflow-${declaration.deadLetterQueue.nameSuffix}` });
      queues[name] = new MemoryQueue({
        name: `chartflow-${declaration.nameSuffix}`,
        ...settings[name],
        deadLetterQueue: deadLetters[name],
        handBackTimeScale: declaration.handBackClock === 'pipeline' ? timeScale : 1,
      });
    }
    this.queues = queues;
    this.deadLetters = deadLetters;
    this.queueSettings = settings;
  }

  /** The lake's bucket notifications: the store calls it for every ObjectCreated event. */
  readonly objectCreated = (event: S3Event): void => {
    for (const { fn, trigger } of triggersOf(this.#topology)) {
      if (trigger.kind !== 's3') continue;
      const keys = event.Records.map((r) => decodeS3Key(r.s3.object.key));
      if (keys.some((key) => matchesKeyFilter(key, trigger))) this.#invokeAsync(fn, event);
    }
  };

  /** What an AWS service sends to the default bus (the dbt runner's "ECS Task State Change"). */
  readonly serviceEvent = (envelope: EventBridgeEnvelope): void => this.bus.putServiceEvent(envelope);

  /**
   * Connects every trigger of the topology to its function.
   *
   * @throws {Error} if a function some trigger names is missing
   */
  connect(functions: LocalFunctions): void {
    if (this.#functions) throw new Error('the local wiring is already connected');
    // A schedule's function is the CLI's to start (`schedule`), so it need not be connected.
    const missing = triggersOf(this.#topology)
      .filter(({ trigger }) => trigger.kind !== 'schedule')
      .map(({ fn }) => fn)
      .filter((fn) => !functions[fn]);
    if (missing.length > 0) throw new Error(`no local function for ${[...new Set(missing)].join(', ')}`);
    this.#functions = functions;
    for (const name of queueNames(this.#topology)) {
      const { fn } = mappingOf(this.#topology, name);
      this.queues[name].subscribe(
        this.#consumer(
          name,
          (event: SQSEvent) => this.#function(fn)(event) as Promise<SQSBatchResponse | void>,
        ),
      );
    }
    for (const name of ruleNames(this.#topology)) {
      const rule = this.#topology.rules[name];
      const target = rule.target;
      this.bus.on(rule, (envelope) => {
        if ('function' in target) {
          this.#invokeAsync(target.function, envelope);
          return;
        }
        const message = {
          id: envelope.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80),
          body: JSON.stringify(envelope),
        };
        // EventBridge keeps an event it could not deliver in the rules' dead-letter queue.
        this.queues[target.queue].send([message]).catch(async (error: unknown) => {
          logger.error(`rule ${name} could not reach ${target.queue}`, error as Error);
          await this.eventDeadLetters.send([message]);
        });
      });
    }
  }

  /**
   * Starts a scheduled function (chart-fetch unless told) with this event, retried as the
   * schedule's asynchronous invocation is, and waits for its answer: on one machine the CLI stands
   * in for the schedules, and reports what the function did. A failure for good is at the
   * on-failure destination, and thrown.
   */
  async schedule(event: unknown, fn: FunctionName = 'chartFetch'): Promise<unknown> {
    const scheduled = triggersOf(this.#topology).some((t) => t.fn === fn && t.trigger.kind === 'schedule');
    if (!scheduled) throw new Error(`the topology has no schedule for ${fn}`);
    return this.invoker.invokeAndWait(this.#topology.functions[fn].root, this.#function(fn), event);
  }

  /** Invokes a function directly (replay: the CLI invokes it on AWS too), waiting for its answer. */
  async invoke(fn: FunctionName, event: unknown): Promise<unknown> {
    return this.#function(fn)(event);
  }

  /** Stops every queue's delivery and timers. */
  stop(): void {
    for (const name of queueNames(this.#topology)) {
      this.queues[name].stop();
      this.deadLetters[name].stop();
    }
    this.asyncFailures.stop();
    this.eventDeadLetters.stop();
  }

  #invokeAsync(fn: FunctionName, event: unknown): void {
    this.invoker.invoke(this.#topology.functions[fn].root, this.#function(fn), event);
  }

  #function(fn: FunctionName): LocalFunction {
    const f = this.#functions?.[fn];
    if (!f) throw new Error(`no local function ${fn} is connected`);
    return f;
  }
}
