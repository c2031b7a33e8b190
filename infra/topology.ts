import { busyRetrySeconds } from '../services/transform/handler.js';
import { ecsTaskStateChange } from '../shared/events/ecs-task-event.js';
import { inboxChartsPrefix } from '../shared/lake/keys.js';
import {
  eventSource,
  stageLoadedDetailType,
  transformRequestedDetailType,
} from '../shared/records/messages.js';

/**
 * The pipeline's topology, declared once: every function, what triggers it, and the settings of
 * every queue, event source mapping, bucket notification and EventBridge rule. serverless.yml and
 * infra/*.yml deploy exactly these numbers (test/infra/aws/serverless-package.test.ts compiles the
 * template and holds it equal to this module, both ways); the local runtime is wired from it
 * (infra/local/wiring.ts); the flow diagram of docs/architecture.md is drawn from it
 * (`flowDiagram` in infra/topology-diagram.ts).
 *
 * Every duration is AWS's, in seconds. One machine compresses the pipeline's own waits by one
 * local time scale (infra/local/time-scale.ts), never by numbers of its own.
 */

/** The Lambda functions, by their serverless.yml names. */
export const functionNames = [
  'chartFetch',
  'trackAttributes',
  'stageLoader',
  'transform',
  'stageCleanup',
  'replay',
  'warehouseSetup',
  'reconciler',
] as const;
export type FunctionName = (typeof functionNames)[number];

/** A function's own settings. */
export interface FunctionDeclaration {
  /** Its composition root, infra/aws/functions/<root>.ts; also its name in local logs and summaries. */
  readonly root: string;
  readonly timeoutSeconds: number;
  /** Reserved concurrency; absent: the account's unreserved pool (what every function has today). */
  readonly reservedConcurrency?: number;
}

/** Who invokes a function that has no trigger in the topology. */
export type DirectInvoker = 'the CLI' | 'CloudFormation';

/**
 * How an asynchronous invocation (a bucket notification, the schedule, an EventBridge rule whose
 * target is a function) is retried when the function fails: Lambda tries `maxAttempts` times in
 * all, waiting `delayMs(attempt)` after the failed attempt `attempt`, then hands the event to the
 * on-failure destination. An error that is not retryable is not tried again.
 */
export interface AsyncRetryPolicy {
  readonly maxAttempts: number;
  readonly delayMs: (attempt: number) => number;
}

/** A queue and its redrive policy. */
export interface QueueDeclaration {
  /** The CloudFormation logical id (infra/queues.yml). */
  readonly resource: string;
  /** Its name after the stack's: `${AWS::StackName}-<nameSuffix>`. */
  readonly nameSuffix: string;
  readonly visibilityTimeoutSeconds: number;
  /** Receives after which a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly deadLetterQueue: { readonly resource: string; readonly nameSuffix: string };
  /**
   * Whose clock the seconds a consumer hands a message back for (changeVisibility) count on: the
   * pipeline's own pace (`pipeline`: a busy warehouse, {@link busyRetrySeconds}), which one machine
   * compresses with the pipeline's other waits, or a provider's Retry-After (`provider`), which is
   * real time everywhere, as the provider's rate limiter does not speed up.
   */
  readonly handBackClock: 'pipeline' | 'provider';
  /** The seconds the consumer hands a message back for, when it is the pipeline's own number. */
  readonly handBackSeconds?: number;
}

/** What triggers a function. */
export type Trigger =
  | {
      readonly kind: 'schedule';
      /** A serverless.yml parameter, so that a deploy may move it; `default` is what it is unless moved. */
      readonly expression: { readonly param: string; readonly default: string };
    }
  | {
      /** A bucket notification on the lake: every ObjectCreated event whose key matches. */
      readonly kind: 's3';
      readonly event: 's3:ObjectCreated:*';
      readonly prefix: string;
      readonly suffix?: string;
    }
  | {
      /** An event source mapping; failed items are reported one by one (ReportBatchItemFailures). */
      readonly kind: 'sqs';
      readonly queue: QueueName;
      readonly batchSize: number;
      readonly maximumBatchingWindowSeconds: number;
      readonly maximumConcurrency: number;
    }
  | { readonly kind: 'rule'; readonly rule: RuleName };

/** What a function produces that triggers others (see `topology.produces`). */
export interface Produces {
  readonly lake?: readonly string[];
  readonly queues?: readonly QueueName[];
  readonly bus?: boolean;
  readonly dbtTask?: boolean;
  /** Functions it invokes asynchronously, with the event their own trigger would have sent. */
  readonly invokes?: readonly FunctionName[];
}

/**
 * A value of an event pattern that names a resource of this stack: the dbt cluster's ARN, or the
 * prefix of every revision of the dbt task definition (`…:task-definition/<stack>-dbt:`).
 */
export interface StackReference {
  readonly stack: 'dbtClusterArn' | 'dbtTaskDefinitionArnPrefix';
}

/** One value an event pattern field accepts: a literal, a stack resource, or a prefix of either. */
export type PatternValue = string | StackReference | { readonly prefix: string | StackReference };

/** An EventBridge event pattern, the fields chartflow matches on. */
export interface EventPattern {
  readonly source: readonly string[];
  readonly 'detail-type': readonly string[];
  readonly detail?: Readonly<Record<string, readonly PatternValue[]>>;
}

/** An EventBridge rule: the bus it listens on, its pattern, its one target. */
export interface RuleDeclaration {
  /** `stack`: the stack's own bus (infra/queues.yml's EventBus); `default`: where AWS services publish. */
  readonly bus: 'stack' | 'default';
  readonly pattern: EventPattern;
  readonly target: { readonly queue: QueueName } | { readonly function: FunctionName };
}

const trackQueue = {
  resource: 'TrackQueue',
  nameSuffix: 'tracks',
  // Six times the consuming function's timeout, as AWS advises for an SQS event source.
  visibilityTimeoutSeconds: 1800,
  maxReceiveCount: 3,
  deadLetterQueue: { resource: 'TrackDeadLetterQueue', nameSuffix: 'tracks-dlq' },
  handBackClock: 'provider',
} as const satisfies QueueDeclaration;

const transformQueue = {
  resource: 'TransformQueue',
  nameSuffix: 'transform',
  visibilityTimeoutSeconds: 1800,
  // 200 hand-backs of busyRetrySeconds outlast a batch's hold on the warehouse (the lock's TTL).
  maxReceiveCount: 200,
  deadLetterQueue: { resource: 'TransformDeadLetterQueue', nameSuffix: 'transform-dlq' },
  handBackClock: 'pipeline',
  handBackSeconds: busyRetrySeconds,
} as const satisfies QueueDeclaration;

export type QueueName = 'trackQueue' | 'transformQueue';

/**
 * A queue that only receives what could not be delivered, read by people (and the alarm on its
 * depth), never consumed by a function.
 */
export interface HoldingQueueDeclaration {
  readonly resource: string;
  readonly nameSuffix: string;
}

/**
 * Where an asynchronous invocation goes when Lambda gives up on it: after its retries, or once it
 * is older than `maximumEventAgeSeconds` (a throttled function). Without this, AWS drops it.
 */
export interface AsyncInvokeDeclaration {
  readonly maximumEventAgeSeconds: number;
  /** The on-failure destination: an SQS queue, with an alarm on its depth (infra/alarms.yml). */
  readonly onFailure: HoldingQueueDeclaration;
}

/** How EventBridge delivers to a rule's target, and where it puts what it could not deliver. */
export interface RuleDeliveryDeclaration {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly deadLetterQueue: HoldingQueueDeclaration;
}
export type RuleName = 'transformRequest' | 'dbtStopped';

/** The topology: see the module's comment. */
export const topology = {
  functions: {
    chartFetch: { root: 'chart-fetch', timeoutSeconds: 300 },
    // A batch is a chart day, 200 single lookups in Development Mode at 30 per 30 s: about 200 s.
    trackAttributes: { root: 'track-attributes', timeoutSeconds: 300 },
    stageLoader: { root: 'stage-loader', timeoutSeconds: 300 },
    transform: { root: 'transform', timeoutSeconds: 300 },
    stageCleanup: { root: 'stage-cleanup', timeoutSeconds: 120 },
    replay: { root: 'replay', timeoutSeconds: 300 },
    warehouseSetup: { root: 'warehouse-setup', timeoutSeconds: 300 },
    reconciler: { root: 'reconciler', timeoutSeconds: 300 },
  } satisfies Record<FunctionName, FunctionDeclaration>,

  queues: { trackQueue, transformQueue } satisfies Record<QueueName, QueueDeclaration>,

  rules: {
    // A day loaded, or a backfill's batch to transform: both wait their turn in TransformQueue.
    transformRequest: {
      bus: 'stack',
      pattern: {
        source: [eventSource],
        'detail-type': [stageLoadedDetailType, transformRequestedDetailType],
      },
      target: { queue: 'transformQueue' },
    },
    // This stack's dbt task stopped, success or not.
    dbtStopped: {
      bus: 'default',
      pattern: {
        source: ['aws.ecs'],
        'detail-type': [ecsTaskStateChange],
        detail: {
          clusterArn: [{ stack: 'dbtClusterArn' }],
          lastStatus: ['STOPPED'],
          taskDefinitionArn: [{ prefix: { stack: 'dbtTaskDefinitionArnPrefix' } }],
        },
      },
      target: { function: 'stageCleanup' },
    },
  } satisfies Record<RuleName, RuleDeclaration>,

  /** Each function's triggers; a function with none is invoked directly (see `directlyInvoked`). */
  triggers: {
    chartFetch: [
      // The deploy enables it once the dbt image is in ECR (`scheduleEnabled`, infra/queues.yml).
      { kind: 'schedule', expression: { param: 'chartSchedule', default: 'cron(30 6 * * ? *)' } },
      { kind: 's3', event: 's3:ObjectCreated:*', prefix: inboxChartsPrefix, suffix: '.csv' },
    ],
    trackAttributes: [
      // A whole chart day in one batch; the window lets a day's sends gather.
      {
        kind: 'sqs',
        queue: 'trackQueue',
        batchSize: 200,
        maximumBatchingWindowSeconds: 5,
        maximumConcurrency: 2,
      },
    ],
    // Every object under raw/: the loader decides whether a day is complete. The CSVs, under
    // tables/, fire nothing: the manifest and the part markers, under raw/, are written after them.
    stageLoader: [{ kind: 's3', event: 's3:ObjectCreated:*', prefix: 'raw/' }],
    transform: [
      {
        kind: 'sqs',
        queue: 'transformQueue',
        batchSize: 1,
        maximumBatchingWindowSeconds: 0,
        maximumConcurrency: 2,
      },
    ],
    stageCleanup: [{ kind: 'rule', rule: 'dbtStopped' }],
    replay: [],
    warehouseSetup: [],
    // Finds and repairs what a lost event left behind (docs/reliability.md, "The reconciler").
    reconciler: [{ kind: 'schedule', expression: { param: 'reconcileSchedule', default: 'rate(1 hour)' } }],
  } satisfies Record<FunctionName, readonly Trigger[]>,

  /**
   * What each function produces that triggers another: its writes under lake prefixes, its sends
   * to queues, its events on the stack's bus, the dbt task it starts (whose stop ECS announces on
   * the default bus). Nothing deploys this (the IAM roles grant it); the flow diagram draws it.
   */
  produces: {
    chartFetch: { lake: ['raw/'], queues: ['trackQueue'] },
    trackAttributes: { lake: ['raw/'] },
    stageLoader: { bus: true },
    transform: { dbtTask: true },
    stageCleanup: {},
    replay: { lake: ['raw/'] },
    warehouseSetup: {},
    // Events put again on the bus, and a lost ObjectCreated handed to the stage loader itself.
    reconciler: { bus: true, invokes: ['stageLoader'] },
  } satisfies Record<FunctionName, Produces>,

  directlyInvoked: { replay: 'the CLI', warehouseSetup: 'CloudFormation' } satisfies Partial<
    Record<FunctionName, DirectInvoker>
  >,

  /**
   * Lambda's asynchronous invocation: two retries (AWS's default, which serverless.yml keeps),
   * about a minute and then two after the failure.
   */
  asyncRetry: {
    maxAttempts: 3,
    delayMs: (attempt: number) => 60_000 * attempt,
  } satisfies AsyncRetryPolicy,

  /**
   * Every asynchronously invoked function (see {@link asyncInvokedFunctions}) keeps what it failed
   * for good: the event, the error, the attempts, in one queue that alarms when it holds anything.
   * Six hours is Lambda's own limit, written out so that it is a decision, not a default.
   */
  asyncInvoke: {
    maximumEventAgeSeconds: 21_600,
    onFailure: { resource: 'AsyncFailureQueue', nameSuffix: 'async-failed' },
  } satisfies AsyncInvokeDeclaration,

  /**
   * Every EventBridge rule's target (the schedule's too): EventBridge retries a failed delivery
   * (a throttled queue or function, a missing permission) for a day, then puts the event in the
   * rules' dead-letter queue, which alarms. 185 attempts is EventBridge's own most.
   */
  ruleDelivery: {
    maximumRetryAttempts: 185,
    maximumEventAgeSeconds: 86_400,
    deadLetterQueue: { resource: 'EventDeadLetterQueue', nameSuffix: 'events-dlq' },
  } satisfies RuleDeliveryDeclaration,
} as const;

export type Topology = typeof topology;

/** Every trigger of the topology with the function it triggers, in declaration order. */
export const triggersOf = (t: Topology = topology): { fn: FunctionName; trigger: Trigger }[] =>
  functionNames.flatMap((fn) => (t.triggers[fn] as readonly Trigger[]).map((trigger) => ({ fn, trigger })));

/**
 * The functions Lambda invokes asynchronously: those a schedule, a bucket notification or an
 * EventBridge rule triggers, and the one CloudFormation invokes (a custom resource is an
 * asynchronous invocation). Each has the topology's {@link topology.asyncInvoke} settings.
 */
export const asyncInvokedFunctions = (t: Topology = topology): FunctionName[] =>
  functionNames.filter(
    (fn) =>
      (t.triggers[fn] as readonly Trigger[]).some((trigger) => trigger.kind !== 'sqs') ||
      (t.directlyInvoked as Partial<Record<FunctionName, DirectInvoker>>)[fn] === 'CloudFormation',
  );

/** Whether a key matches a bucket notification's filter. */
export const matchesKeyFilter = (key: string, filter: { prefix: string; suffix?: string }): boolean =>
  key.startsWith(filter.prefix) && (filter.suffix === undefined || key.endsWith(filter.suffix));
