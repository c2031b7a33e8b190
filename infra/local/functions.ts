import type { Context } from 'aws-lambda';
import type { Clock } from '../../shared/ports/clock.js';
import type { EventBridgeEnvelope } from '../../shared/events/bus-event.js';
import type { EventBus } from '../../shared/ports/event-bus.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { Queue } from '../../shared/ports/queue.js';
import type { TransformRunner } from '../../shared/ports/transform-runner.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { TransformLockOptions } from '../../shared/lake/transform-lock.js';
import { makeHandler as makeChartFetch } from '../../services/chart-fetch/handler.js';
import { makeHandler as makeTrackAttributes } from '../../services/track-attributes/handler.js';
import { makeHandler as makeStageLoader } from '../../services/stage-loader/handler.js';
import { makeQueueHandler as makeTransform } from '../../services/transform/handler.js';
import { makeHandler as makeStageCleanup } from '../../services/stage-cleanup/handler.js';
import { makeHandler as makeReplay } from '../../services/replay/handler.js';
import type { StackReferences } from '../adapters/embedded/local-event-bus.js';
import { topology, type FunctionName, type QueueName } from '../topology.js';
import { localContext } from './handler-context.js';
import type { PhaseClock } from './phase-clock.js';
import type { Providers } from './providers.js';
import type { LocalFunction, LocalFunctions } from './wiring.js';

/** What the local functions are built on: the embedded parts, as each composition root builds the AWS ones. */
export interface LocalParts {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly runner: TransformRunner;
  readonly bus: EventBus;
  readonly queues: Readonly<Record<QueueName, Queue>>;
  readonly providers: Providers;
  readonly clock: Clock;
  /** The transform lock's local options: its holder process, and how to tell it lives (infra/local/recovery.ts). */
  readonly lock?: TransformLockOptions;
}

/** How the facade watches its functions: the time they take, and what some of them answer. */
export interface LocalObservers {
  readonly phases: PhaseClock;
  readonly phaseOf: Partial<Record<FunctionName, string>>;
  readonly onResult?: Partial<Record<FunctionName, (result: unknown) => void>>;
}

/**
 * The ARNs the dbt runner's stop event carries locally, for the rule that matches "this stack's
 * dbt task" by cluster and task definition. The local runner names neither, so its stop event
 * gets them stamped on ({@link asLocalTaskEvent}).
 */
export const localStackReferences: StackReferences = {
  dbtClusterArn: 'arn:aws:ecs:local:000000000000:cluster/chartflow',
  dbtTaskDefinitionArnPrefix: 'arn:aws:ecs:local:000000000000:task-definition/chartflow-dbt:',
};

type Handler<E> = (event: E, context: Context) => Promise<unknown>;

/**
 * The local composition root: every function the topology triggers, built with the services' own
 * `makeHandler` on the embedded parts, invoked with a Lambda context and timed as its phase.
 * warehouseSetup has no local twin: the local warehouses create their schemas themselves.
 */
export const localFunctions = (parts: LocalParts, observers: LocalObservers): LocalFunctions => {
  const { store, warehouse, runner, bus, queues, providers, clock } = parts;
  const factories: Partial<Record<FunctionName, () => Handler<never>>> = {
    chartFetch: () =>
      makeChartFetch({
        store,
        queue: queues.trackQueue,
        source: providers.chartSource,
        clock,
        charts: providers.charts,
      }),
    trackAttributes: () =>
      makeTrackAttributes({
        store,
        provider: providers.enricher,
        clock,
      }),
    stageLoader: () => makeStageLoader({ store, warehouse, bus, clock }),
    transform: () =>
      makeTransform({
        store,
        warehouse,
        runner,
        clock,
        transformQueue: queues.transformQueue,
        ...(parts.lock ? { lock: parts.lock } : {}),
      }),
    stageCleanup: () => makeStageCleanup({ store, warehouse, clock }),
    replay: () => makeReplay({ store }),
  };
  const handlers = Object.fromEntries(
    Object.entries(factories).map(([fn, factory]) => [fn, instances(factory as () => Handler<unknown>)]),
  );
  return Object.fromEntries(
    Object.entries(handlers).map(([fn, handler]) => [
      fn,
      observed(fn as FunctionName, handler as Handler<unknown>, observers),
    ]),
  ) as LocalFunctions;
};

/**
 * A function as Lambda runs it: each invocation on an execution environment of its own, never two
 * at once on one, a new one built when every existing one is busy. A handler may keep state between
 * the invocations of one environment (a client, a cache, a middleware's context), so two concurrent
 * invocations (an event source mapping's maximum concurrency of 2) do not share one, as on AWS.
 */
const instances = <E>(build: () => Handler<E>): Handler<E> => {
  const idle: Handler<E>[] = [];
  return async (event, context) => {
    const handler = idle.pop() ?? build();
    try {
      return await handler(event, context);
    } finally {
      idle.push(handler);
    }
  };
};

/** The function with a Lambda context, its time recorded under its phase, its answer observed. */
const observed = (fn: FunctionName, handler: Handler<unknown>, observers: LocalObservers): LocalFunction => {
  const phase = observers.phaseOf[fn];
  return async (event) => {
    const started = performance.now();
    try {
      const result = await handler(event, localContext(topology.functions[fn].root));
      observers.onResult?.[fn]?.(result);
      return result;
    } finally {
      if (phase) observers.phases.record(phase, started, performance.now());
    }
  };
};

/**
 * The local dbt runner's stop event with the cluster and task definition ECS names in every task
 * event, so that the rule's pattern ("this stack's dbt task") matches it as it matches on AWS.
 */
export const asLocalTaskEvent = <D extends object>(event: EventBridgeEnvelope<D>): EventBridgeEnvelope => ({
  ...event,
  detail: {
    ...event.detail,
    clusterArn: localStackReferences.dbtClusterArn,
    taskDefinitionArn: `${localStackReferences.dbtTaskDefinitionArnPrefix}1`,
  },
});
