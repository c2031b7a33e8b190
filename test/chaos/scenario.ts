import { createRng, type Rng } from '../../infra/sandbox/prng.js';
import type { ChartDay } from '../../shared/records/messages.js';

/**
 * A chaos scenario (docs/chaos.md): a few pipeline operations on a few days of one small chart,
 * with faults armed during some of them. Everything here is drawn from the scenario's seed, so
 * that the same seed gives the same scenario.
 */

/** The chart every scenario uses: the sandbox's smallest (50 tracks). */
export const chaosChart = 'br';

/**
 * The chart an ingested file becomes: `ingest` drops the sandbox's {@link chaosChart} of a day as
 * the Spotify Charts file `regional-br-daily-<day>.csv`, whose chart is `br-daily`.
 */
export const ingestChart = 'br-daily';

/** The days scenarios draw from; few, so that the fault-free references are shared. */
export const chaosDays = ['2026-08-01', '2026-08-02', '2026-08-03'] as const;

export type Operation =
  | { readonly kind: 'run'; readonly day: string }
  | { readonly kind: 'backfill'; readonly days: readonly string[] }
  | { readonly kind: 'replay'; readonly day: string }
  | { readonly kind: 'retry-missing' }
  /** A Spotify Charts file of the day dropped into the inbox (`chartflow ingest`): chart {@link ingestChart}. */
  | { readonly kind: 'ingest'; readonly day: string };

/** Every fault the suite injects, by the port it hits. */
export const faultKinds = [
  'store.put-error',
  'store.get-error',
  'store.delay',
  'store.partial-write',
  'queue.duplicate',
  'queue.reorder',
  'queue.redelivery',
  'queue.visibility-expiry',
  'warehouse.copy-error',
  'warehouse.check-error',
  'warehouse.cleanup-error',
  'dbt.fail',
  'dbt.killed',
  'provider.5xx',
  'provider.rate-limit',
  'provider.quota',
  'provider.malformed',
  'provider.failing-ids',
  'process.sigkill',
  'process.sigint',
] as const;
export type FaultKind = (typeof faultKinds)[number];

/**
 * One fault of a scenario: armed during operation `op`, it fires on the `at`-th matching port call
 * and the `times - 1` after it (for the process faults: the `at`-th port call of any port).
 * `param` is the kind's own number (a delay in ms, a count of answers, a visibility timeout…).
 */
export interface Fault {
  readonly kind: FaultKind;
  readonly op: number;
  readonly at: number;
  readonly times: number;
  readonly param: number;
  /**
   * For the warehouse faults: after the port's own work (a COPY committed, then an error) rather
   * than before it. For the process faults: at `at` x 250 ms into the operation (dbt may be
   * running then) rather than at its `at`-th port call.
   */
  readonly after: boolean;
}

export interface Scenario {
  readonly seed: number;
  /** The chart days its operations fetch: days of {@link chaosChart}, and of {@link ingestChart} if it ingests. */
  readonly days: readonly ChartDay[];
  readonly operations: readonly Operation[];
  readonly faults: readonly Fault[];
}

const pickDays = (rng: Rng, count: number): string[] => {
  const pool = [...chaosDays];
  const picked: string[] = [];
  while (picked.length < count) picked.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
  return picked.sort();
};

/** An operation on the scenario's days; a replay only of a day an earlier operation fetched. */
const drawOperation = (rng: Rng, days: readonly string[], fetched: Set<string>): Operation => {
  const roll = rng.next();
  if (roll < 0.15 && fetched.size > 0) return { kind: 'replay', day: rng.pick([...fetched].sort()) };
  if (roll < 0.25 && fetched.size > 0) return { kind: 'retry-missing' };
  if (roll < 0.6 || days.length === 1) return { kind: 'run', day: rng.pick(days) };
  return { kind: 'backfill', days: pickSubset(rng, days) };
};

const pickSubset = (rng: Rng, days: readonly string[]): string[] => {
  const subset = days.filter(() => rng.chance(0.7));
  return subset.length > 0 ? subset : [rng.pick(days)];
};

const fetchedBy = (operation: Operation): readonly string[] =>
  operation.kind === 'run' ? [operation.day] : operation.kind === 'backfill' ? operation.days : [];

/** The chart days an operation fetches or loads (`retry-missing`: every day of the scenario). */
export const operationDays = (operation: Operation, all: readonly ChartDay[]): readonly ChartDay[] => {
  const of = (chartDate: string): ChartDay => ({ chartId: chaosChart, chartDate });
  switch (operation.kind) {
    case 'run':
    case 'replay':
      return [of(operation.day)];
    case 'backfill':
      return operation.days.map(of);
    case 'ingest':
      return [{ chartId: ingestChart, chartDate: operation.day }];
    default:
      return all;
  }
};

/** A chart day as one word, for sets and messages: `br 2026-08-01`. */
export const dayKey = (day: ChartDay): string => `${day.chartId} ${day.chartDate}`;

/** The number a kind of fault takes, drawn. */
const drawParam = (rng: Rng, kind: FaultKind): number => {
  switch (kind) {
    case 'store.delay':
      return rng.int(20, 400);
    case 'queue.visibility-expiry':
      return rng.int(150, 1_500);
    case 'dbt.killed':
      return rng.int(500, 12_000);
    case 'provider.5xx':
    case 'provider.malformed':
      return rng.int(1, 8);
    case 'provider.rate-limit':
      return rng.int(10, 60);
    case 'provider.quota':
      return rng.int(60, 86_400);
    case 'provider.failing-ids':
      return rng.int(1, 3);
    default:
      return 0;
  }
};

/**
 * Where in the operation a fault strikes, among the calls it matches: a process fault at any port
 * call of the operation, a store fault among its dozens of store calls, a failing query among the
 * loader's, checks' and summaries' queries; the rest match a call or two per day (a COPY, a dbt
 * start, a send, a batch).
 */
const drawAt = (rng: Rng, kind: FaultKind): number =>
  kind.startsWith('process.')
    ? rng.int(1, 120)
    : kind.startsWith('store.')
      ? rng.int(1, 40)
      : kind === 'warehouse.check-error'
        ? rng.int(1, 15)
        : rng.chance(0.7)
          ? 1
          : 2;

/**
 * The scenario of a seed: 1 to 3 days of {@link chaosChart}, 1 to 3 operations (the first always
 * fetches), and 1 to 3 faults, each armed during one operation; then, one time in four, an ingest
 * of a day's chart file as a last operation, with a fault of its own half the time. At most one
 * process fault, since the process it strikes is gone for the rest of the scenario's faulty part.
 */
export const drawScenario = (seed: number): Scenario => {
  const rng = createRng(seed);
  const days = pickDays(rng, rng.int(1, 3));
  const operations: Operation[] = [];
  const fetched = new Set<string>();
  const count = rng.int(1, 3);
  for (let i = 0; i < count; i += 1) {
    const operation: Operation =
      i === 0
        ? days.length > 1 && rng.chance(0.5)
          ? { kind: 'backfill', days }
          : { kind: 'run', day: rng.pick(days) }
        : drawOperation(rng, days, fetched);
    for (const day of fetchedBy(operation)) fetched.add(day);
    operations.push(operation);
  }
  const faults: Fault[] = [];
  // The draws go in this order (kind, operation, call, times, param, after): the seeds' scenarios depend on it.
  const drawFault = (drawOp: () => number): Fault => {
    const processTaken = faults.some((f) => f.kind.startsWith('process.'));
    const kinds = processTaken ? faultKinds.filter((k) => !k.startsWith('process.')) : faultKinds;
    const kind = rng.pick(kinds);
    return {
      kind,
      op: drawOp(),
      at: drawAt(rng, kind),
      times: rng.int(1, 3),
      param: drawParam(rng, kind),
      after: rng.chance(0.5),
    };
  };
  const faultCount = rng.int(1, 3);
  for (let i = 0; i < faultCount; i += 1) faults.push(drawFault(() => rng.int(0, operations.length - 1)));
  // An ingest is drawn last, after everything above, so that adding it to the suite left every
  // scenario that draws none exactly as it was: one scenario in four ends with a Spotify Charts file
  // of one of the days dropped into the inbox, with a fault of its own half the time.
  if (rng.chance(0.25)) {
    operations.push({ kind: 'ingest', day: rng.pick(chaosDays) });
    if (rng.chance(0.5)) faults.push(drawFault(() => operations.length - 1));
  }
  // The scenario's days are those its operations fetch: a day drawn but never run is no part of it.
  const ingested = operations.flatMap((o) => (o.kind === 'ingest' ? [o.day] : []));
  return {
    seed,
    days: [
      ...days.filter((d) => fetched.has(d)).map((chartDate) => ({ chartId: chaosChart, chartDate })),
      ...[...new Set(ingested)].map((chartDate) => ({ chartId: ingestChart, chartDate })),
    ],
    operations,
    faults,
  };
};

const describeOperation = (operation: Operation): string =>
  operation.kind === 'run'
    ? `run ${operation.day}`
    : operation.kind === 'backfill'
      ? `backfill ${operation.days.join(' ')}`
      : operation.kind === 'replay'
        ? `replay ${operation.day}`
        : operation.kind === 'ingest'
          ? `ingest regional-br-daily-${operation.day}.csv`
          : 'retry-missing';

const describeFault = (fault: Fault): string =>
  (fault.kind.startsWith('process.') && fault.after
    ? `${fault.kind} at ${(fault.at * 0.25).toFixed(2)} s`
    : `${fault.kind} at call ${fault.at}${fault.times > 1 && !fault.kind.startsWith('process.') ? ` (x${fault.times})` : ''}`) +
  `${fault.param ? `, ${fault.param}` : ''}${fault.after && fault.kind.startsWith('warehouse.') ? ', after the work' : ''}`;

/** The scenario as steps, one per line: what a failing scenario prints with its seed. */
export const describeScenario = (scenario: Scenario): string[] => [
  `seed ${scenario.seed}: days ${scenario.days.map(dayKey).join(', ')}`,
  ...scenario.operations.map((operation, i) => {
    const faults = scenario.faults.filter((f) => f.op === i).map(describeFault);
    return `  ${i + 1}. ${describeOperation(operation)}${faults.length > 0 ? `  [${faults.join('; ')}]` : ''}`;
  }),
];
