import {
  asyncInvokedFunctions,
  functionNames,
  topology,
  triggersOf,
  type EventPattern,
  type PatternValue,
  type StackReference,
  type Topology,
} from '../../infra/topology.js';
import type { CompiledTemplate, TemplateResource } from './serverless-template.js';

/**
 * The topology as a list of plain facts in CloudFormation's terms, one per trigger, function,
 * queue and rule, so that the module and a compiled template can be compared as two sorted lists:
 * whatever one has and the other lacks shows in the diff.
 */
export type Fact = Record<string, unknown>;

/** What the stack references of an event pattern are in the template. */
const intrinsicOf: Record<StackReference['stack'], unknown> = {
  dbtClusterArn: { 'Fn::GetAtt': ['DbtCluster', 'Arn'] },
  dbtTaskDefinitionArnPrefix: {
    'Fn::Sub':
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${AWS::StackName}-dbt:',
  },
};

const isReference = (v: unknown): v is StackReference => typeof v === 'object' && v !== null && 'stack' in v;

const patternValue = (value: PatternValue): unknown => {
  if (typeof value === 'string') return value;
  if (isReference(value)) return intrinsicOf[value.stack];
  return { prefix: isReference(value.prefix) ? intrinsicOf[value.prefix.stack] : value.prefix };
};

/** An event pattern as the template spells it. */
export const templatePattern = (pattern: EventPattern): unknown => ({
  source: [...pattern.source],
  'detail-type': [...pattern['detail-type']],
  ...(pattern.detail
    ? {
        detail: Object.fromEntries(
          Object.entries(pattern.detail).map(([field, values]) => [field, values.map(patternValue)]),
        ),
      }
    : {}),
});

const sorted = (facts: Fact[]): Fact[] =>
  facts
    .map((f) => JSON.stringify(f))
    .sort()
    .map((f) => JSON.parse(f) as Fact);

/** The module's facts. */
export const topologyFacts = (t: Topology = topology): Fact[] => {
  const facts: Fact[] = [];
  const asyncInvoked = new Set(asyncInvokedFunctions(t));
  for (const fn of functionNames) {
    const f: { root: string; timeoutSeconds: number; reservedConcurrency?: number } = t.functions[fn];
    facts.push({
      function: fn,
      handler: `infra/aws/functions/${f.root}.handler`,
      timeout: f.timeoutSeconds,
      reservedConcurrency: f.reservedConcurrency ?? null,
      asyncRetries: t.asyncRetry.maxAttempts - 1,
      asyncInvoke: asyncInvoked.has(fn)
        ? {
            maximumEventAge: t.asyncInvoke.maximumEventAgeSeconds,
            onFailure: t.asyncInvoke.onFailure.resource,
          }
        : null,
    });
  }
  for (const holding of [t.asyncInvoke.onFailure, t.ruleDelivery.deadLetterQueue]) {
    facts.push({ queue: holding.resource, name: `\${AWS::StackName}-${holding.nameSuffix}` });
  }
  const delivery = {
    maximumRetryAttempts: t.ruleDelivery.maximumRetryAttempts,
    maximumEventAge: t.ruleDelivery.maximumEventAgeSeconds,
    deadLetterQueue: t.ruleDelivery.deadLetterQueue.resource,
  };
  for (const { fn, trigger } of triggersOf(t)) {
    switch (trigger.kind) {
      case 'schedule':
        facts.push({
          trigger: 'schedule',
          function: fn,
          expression: trigger.expression.default,
          ...delivery,
        });
        break;
      case 's3':
        facts.push({
          trigger: 's3',
          function: fn,
          event: trigger.event,
          prefix: trigger.prefix,
          suffix: trigger.suffix ?? null,
        });
        break;
      case 'sqs':
        facts.push({
          trigger: 'sqs',
          function: fn,
          queue: t.queues[trigger.queue].resource,
          batchSize: trigger.batchSize,
          maximumBatchingWindow: trigger.maximumBatchingWindowSeconds,
          maximumConcurrency: trigger.maximumConcurrency,
          reportBatchItemFailures: true,
        });
        break;
      case 'rule': {
        const rule = t.rules[trigger.rule];
        if (!('function' in rule.target) || rule.target.function !== fn) {
          throw new Error(`${fn} is triggered by rule ${trigger.rule}, whose target is another`);
        }
        break;
      }
    }
  }
  for (const rule of Object.values(t.rules)) {
    facts.push({
      rule: rule.bus,
      pattern: templatePattern(rule.pattern),
      target: 'queue' in rule.target ? t.queues[rule.target.queue].resource : rule.target.function,
      ...delivery,
    });
  }
  for (const queue of Object.values(t.queues)) {
    facts.push({
      queue: queue.resource,
      name: `\${AWS::StackName}-${queue.nameSuffix}`,
      visibilityTimeout: queue.visibilityTimeoutSeconds,
      maxReceiveCount: queue.maxReceiveCount,
      deadLetterQueue: queue.deadLetterQueue.resource,
    });
    facts.push({
      queue: queue.deadLetterQueue.resource,
      name: `\${AWS::StackName}-${queue.deadLetterQueue.nameSuffix}`,
    });
  }
  return sorted(facts);
};

type Json = Record<string, unknown>;
const getAttId = (value: unknown): string | undefined => {
  const att = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return att?.[1] === 'Arn' ? att[0] : undefined;
};

/**
 * The template's facts. `stackParameters` are what a deploy passes (serverless.yml's
 * stackParameters); a parameter the deploy passes must equal its default in infra/*.yml too, or
 * the fact says both.
 */
export const templateFacts = (
  template: CompiledTemplate,
  stackParameters: Readonly<Record<string, string>>,
): Fact[] => {
  const resources = Object.entries(template.Resources);
  const functionOf = new Map<string, string>();
  for (const [id, r] of resources) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const name = String(r.Properties.FunctionName).replace(/^chartflow-[^-]+-/, '');
    functionOf.set(id, name);
  }
  const fnOf = (value: unknown) => {
    const id = getAttId(value);
    return (id && functionOf.get(id)) ?? `not a function: ${JSON.stringify(value)}`;
  };
  /** A parameter's value, as a deploy passes it and as infra/*.yml defaults it: both, if they differ. */
  const value = (v: unknown, as: (raw: unknown) => unknown = String): unknown => {
    const ref = (v as { Ref?: string } | undefined)?.Ref;
    if (ref === undefined) return v;
    const deployed = stackParameters[ref];
    const fallback = template.Parameters[ref]?.Default;
    if (deployed === undefined) return as(fallback);
    return as(deployed) === as(fallback) ? as(deployed) : { deployed, default: fallback };
  };
  const number = (v: unknown): unknown => value(v, Number);
  const invokeConfigs = new Map<string, TemplateResource['Properties']>();
  for (const [, r] of resources) {
    if (r.Type === 'AWS::Lambda::EventInvokeConfig') {
      const ref = (r.Properties.FunctionName as { Ref?: string } | undefined)?.Ref;
      const name = ref ? template.Resources[ref]?.Properties.FunctionName : r.Properties.FunctionName;
      invokeConfigs.set(String(name), r.Properties);
    }
  }
  const onFailureOf = (config: TemplateResource['Properties'] | undefined) => {
    const destination = (config?.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)
      ?.OnFailure?.Destination;
    return destination === undefined ? null : (getAttId(destination) ?? JSON.stringify(destination));
  };

  const facts: Fact[] = [];
  for (const [id, r] of resources) {
    const p = r.Properties;
    switch (r.Type) {
      case 'AWS::Lambda::Function': {
        const name = functionOf.get(id)!;
        const config = invokeConfigs.get(String(p.FunctionName));
        facts.push({
          function: name,
          handler: p.Handler,
          timeout: p.Timeout,
          reservedConcurrency: p.ReservedConcurrentExecutions ?? null,
          // Without an EventInvokeConfig, Lambda retries an asynchronous invocation twice.
          asyncRetries: Number(config?.MaximumRetryAttempts ?? 2),
          asyncInvoke: config
            ? { maximumEventAge: config.MaximumEventAgeInSeconds ?? null, onFailure: onFailureOf(config) }
            : null,
        });
        break;
      }
      case 'AWS::Lambda::EventSourceMapping':
        facts.push({
          trigger: 'sqs',
          function: fnOf(p.FunctionName),
          queue: getAttId(p.EventSourceArn) ?? JSON.stringify(p.EventSourceArn),
          batchSize: p.BatchSize,
          maximumBatchingWindow: p.MaximumBatchingWindowInSeconds ?? 0,
          maximumConcurrency: (p.ScalingConfig as Json | undefined)?.MaximumConcurrency ?? null,
          reportBatchItemFailures: JSON.stringify(p.FunctionResponseTypes) === '["ReportBatchItemFailures"]',
        });
        break;
      case 'AWS::Events::Rule':
        facts.push(...ruleFacts(p, fnOf, value));
        break;
      case 'AWS::S3::Bucket':
        facts.push(...notificationFacts(p, fnOf));
        break;
      case 'AWS::SQS::Queue':
        facts.push(queueFact(id, p, number));
        break;
    }
  }
  return sorted(facts);
};

const queueFact = (id: string, p: TemplateResource['Properties'], number: (v: unknown) => unknown): Fact => {
  const name = (p.QueueName as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'] ?? p.QueueName;
  const redrive = p.RedrivePolicy as Json | undefined;
  return redrive
    ? {
        queue: id,
        name,
        visibilityTimeout: number(p.VisibilityTimeout ?? 30),
        maxReceiveCount: number(redrive.maxReceiveCount),
        deadLetterQueue: getAttId(redrive.deadLetterTargetArn) ?? JSON.stringify(redrive),
      }
    : { queue: id, name };
};

/** How EventBridge delivers to a target: its retry policy and dead-letter queue, as facts. */
const deliveryOf = (target: Json) => {
  const retry = target.RetryPolicy as Json | undefined;
  const deadLetter = (target.DeadLetterConfig as Json | undefined)?.Arn;
  return {
    maximumRetryAttempts: retry?.MaximumRetryAttempts ?? null,
    maximumEventAge: retry?.MaximumEventAgeInSeconds ?? null,
    deadLetterQueue: deadLetter === undefined ? null : (getAttId(deadLetter) ?? JSON.stringify(deadLetter)),
  };
};

const ruleFacts = (
  p: TemplateResource['Properties'],
  fnOf: (v: unknown) => string,
  value: (v: unknown) => unknown,
): Fact[] => {
  const targets = (p.Targets as Json[] | undefined) ?? [];
  if (p.ScheduleExpression) {
    return targets.map((t) => ({
      trigger: 'schedule',
      function: fnOf(t.Arn),
      expression: value(p.ScheduleExpression),
      ...deliveryOf(t),
    }));
  }
  return targets.map((t) => {
    const target = getAttId(t.Arn) ?? JSON.stringify(t.Arn);
    const fn = fnOf(t.Arn);
    return {
      rule:
        p.EventBusName === undefined
          ? 'default'
          : JSON.stringify(p.EventBusName) === '{"Ref":"EventBus"}'
            ? 'stack'
            : JSON.stringify(p.EventBusName),
      pattern: p.EventPattern,
      target: fn.startsWith('not a function') ? target : fn,
      ...deliveryOf(t),
    };
  });
};

const notificationFacts = (p: TemplateResource['Properties'], fnOf: (v: unknown) => string): Fact[] => {
  const configuration = p.NotificationConfiguration as Json | undefined;
  const lambdas = (configuration?.LambdaConfigurations as Json[] | undefined) ?? [];
  const others = Object.keys(configuration ?? {}).filter(
    (k) => k !== 'LambdaConfigurations' && k !== 'EventBridgeConfiguration',
  );
  return [
    ...lambdas.map((c) => {
      const rules =
        ((c.Filter as Json | undefined)?.S3Key as { Rules?: { Name: string; Value: string }[] } | undefined)
          ?.Rules ?? [];
      const filter = (name: string) => rules.find((r) => r.Name.toLowerCase() === name)?.Value ?? null;
      return {
        trigger: 's3',
        function: fnOf(c.Function),
        event: c.Event,
        prefix: filter('prefix') ?? '',
        suffix: filter('suffix'),
      };
    }),
    ...others.map((kind) => ({ trigger: 's3', unexpected: kind })),
  ];
};
