import {
  functionNames,
  topology,
  triggersOf,
  type DirectInvoker,
  type EventPattern,
  type FunctionName,
  type Produces,
  type QueueDeclaration,
  type QueueName,
  type RuleDeclaration,
  type Topology,
} from './topology.js';

const queueId = (q: QueueName) => `q_${q}`;
const dlqId = (q: QueueName) => `dlq_${q}`;
const lakeId = (prefix: string, suffix?: string) =>
  `lake_${(prefix + (suffix ?? '')).replace(/[^A-Za-z0-9]/g, '_').replace(/_+$/, '')}`;
const busId = (bus: RuleDeclaration['bus']) => `bus_${bus}`;

const patternLabel = (pattern: EventPattern): string =>
  [
    pattern.source.join(' / '),
    pattern['detail-type'].join(' / '),
    ...Object.entries(pattern.detail ?? {})
      .filter(([, values]) => values.every((v) => typeof v === 'string'))
      .map(([field, values]) => `${field}: ${values.join(' / ')}`),
  ].join('<br/>');

/**
 * The flow of the pipeline as a Mermaid `flowchart`, drawn from the topology alone: the schedule,
 * the lake's prefixes and their notifications, the queues with their mappings and dead-letter
 * queues, the buses and their rules, the functions with their timeouts, and what each function
 * produces. docs/architecture.md holds its output between `<!-- flow:begin -->` and
 * `<!-- flow:end -->` (`npm run docs:flow` prints it; a test holds the two equal).
 */
export const flowDiagram = (t: Topology = topology): string => {
  const lines: string[] = ['flowchart LR'];
  const node = (line: string) => lines.push(`  ${line}`);
  const lakeNodes = new Map<string, string>();
  const lake = (prefix: string, suffix?: string) => {
    const id = lakeId(prefix, suffix);
    if (!lakeNodes.has(id)) lakeNodes.set(id, `${id}[/"lake ${prefix}${suffix ? `*${suffix}` : ''}"/]`);
    return id;
  };

  for (const fn of functionNames) {
    const direct = (t.directlyInvoked as Partial<Record<FunctionName, DirectInvoker>>)[fn];
    node(
      `${fn}["${fn}<br/>${t.functions[fn].timeoutSeconds} s${direct ? `<br/>invoked by ${direct}` : ''}"]`,
    );
  }
  for (const name of Object.keys(t.queues) as QueueName[]) {
    const q: QueueDeclaration = t.queues[name];
    node(`${queueId(name)}[("${q.resource}<br/>visibility ${q.visibilityTimeoutSeconds} s")]`);
    node(`${dlqId(name)}[("${q.deadLetterQueue.resource}")]`);
  }
  const buses = new Set(Object.values(t.rules).map((r: RuleDeclaration) => r.bus));
  for (const bus of buses)
    node(`${busId(bus)}{{"${bus === 'stack' ? 'event bus chartflow' : 'default event bus'}"}}`);

  const edges: string[] = [];
  const edge = (from: string, to: string, label?: string) =>
    edges.push(`  ${from} -->${label ? `|"${label}"|` : ''} ${to}`);
  for (const { fn, trigger } of triggersOf(t)) {
    switch (trigger.kind) {
      case 'schedule':
        node(`schedule_${fn}(["schedule ${trigger.expression.default}"])`);
        edge(`schedule_${fn}`, fn);
        break;
      case 's3':
        edge(lake(trigger.prefix, trigger.suffix), fn, 'ObjectCreated');
        break;
      case 'sqs':
        edge(
          queueId(trigger.queue),
          fn,
          `batch ${trigger.batchSize}, window ${trigger.maximumBatchingWindowSeconds} s, concurrency ${trigger.maximumConcurrency}`,
        );
        break;
      case 'rule':
        break;
    }
  }
  for (const name of Object.keys(t.queues) as QueueName[]) {
    edge(queueId(name), dlqId(name), `after ${t.queues[name].maxReceiveCount} receives`);
  }
  for (const rule of Object.values(t.rules) as RuleDeclaration[]) {
    const target = 'queue' in rule.target ? queueId(rule.target.queue) : rule.target.function;
    edge(busId(rule.bus), target, patternLabel(rule.pattern));
  }
  for (const fn of functionNames) {
    const produces: Produces = t.produces[fn];
    for (const prefix of produces.lake ?? []) edge(fn, lake(prefix), 'writes');
    for (const q of produces.queues ?? []) edge(fn, queueId(q), 'sends');
    if (produces.bus) edge(fn, busId('stack'), 'publishes');
    for (const invoked of produces.invokes ?? []) edge(fn, invoked, 'invokes');
    if (produces.dbtTask) {
      node('dbt[["dbt task (Fargate)"]]');
      edge(fn, 'dbt', 'starts');
      if (buses.has('default')) edge('dbt', busId('default'), 'stops');
    }
  }
  for (const definition of lakeNodes.values()) node(definition);
  return [...lines, ...edges].join('\n') + '\n';
};

/** The markers docs/architecture.md keeps the diagram between. */
export const flowMarkers = { begin: '<!-- flow:begin -->', end: '<!-- flow:end -->' } as const;

/** What docs/architecture.md holds between the markers: the diagram in a Mermaid code block. */
export const flowBlock = (t: Topology = topology): string => `\`\`\`mermaid\n${flowDiagram(t)}\`\`\``;
