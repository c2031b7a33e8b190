import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { PowertoolsMetricsAdapter } from '../../../../infra/adapters/aws/powertools-metrics.js';
import { metricDefinitions, type Metrics } from '../../../../shared/ports/metrics.js';

/** An EMF line as CloudWatch reads it (the embedded metric format's specification). */
const emfSchema = z
  .object({
    _aws: z.object({
      Timestamp: z.number().int().positive(),
      CloudWatchMetrics: z
        .array(
          z.object({
            Namespace: z.string(),
            Dimensions: z.array(z.array(z.string())),
            Metrics: z.array(z.object({ Name: z.string(), Unit: z.string() })),
          }),
        )
        .length(1),
    }),
  })
  .loose();
type Emf = z.infer<typeof emfSchema> & Record<string, unknown>;

/** The EMF lines a call writes to standard output, parsed. */
const emitted = (call: (metrics: Metrics) => void): Emf[] => {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    call(new PowertoolsMetricsAdapter({ stackName: 'chartflow-test' }));
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => emfSchema.parse(JSON.parse(line)) as Emf);
};

/** The one directive of a line, and its values by metric name and dimension. */
const read = (line: Emf) => {
  const directive = line._aws.CloudWatchMetrics[0]!;
  return {
    namespace: directive.Namespace,
    dimensions: directive.Dimensions.map((set) => [...set].sort()),
    metrics: Object.fromEntries(
      directive.Metrics.map((m) => [m.Name, { unit: m.Unit, value: line[m.Name] }]),
    ),
    service: line.service,
  };
};

describe('PowertoolsMetricsAdapter (CloudWatch EMF on standard output)', () => {
  beforeEach(() => {
    // Powertools writes nothing in its development mode; a developer's shell may have it set.
    vi.stubEnv('POWERTOOLS_DEV', '');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('writes rows loaded per dataset in the chartflow namespace, the stack as service', () => {
    const lines = emitted((m) => {
      m.rowsLoaded('chart_songs', 200);
      m.rowsLoaded('song_attributes', 198);
    });
    expect(lines.map(read)).toEqual([
      {
        namespace: 'chartflow',
        dimensions: [['dataset', 'service']],
        metrics: { RowsLoaded: { unit: 'Count', value: 200 } },
        service: 'chartflow-test',
      },
      {
        namespace: 'chartflow',
        dimensions: [['dataset', 'service']],
        metrics: { RowsLoaded: { unit: 'Count', value: 198 } },
        service: 'chartflow-test',
      },
    ]);
    expect(lines.map((l) => l.dataset)).toEqual(['chart_songs', 'song_attributes']);
  });

  it('writes a provider’s requests and its 429s in one line, per provider', () => {
    const [line, ...rest] = emitted((m) => m.providerRequests('spotify', 12, 3));
    expect(rest).toEqual([]);
    expect(read(line!)).toEqual({
      namespace: 'chartflow',
      dimensions: [['provider', 'service']],
      metrics: {
        ProviderRequests: { unit: 'Count', value: 12 },
        ProviderThrottled: { unit: 'Count', value: 3 },
      },
      service: 'chartflow-test',
    });
    expect(line!.provider).toBe('spotify');
  });

  it('writes the counts without a dimension of their own under service alone, dbt’s time in seconds', () => {
    const lines = emitted((m) => {
      m.quarantined(4);
      m.deadLettered(2);
      m.checksFailed(0);
      m.dbtDuration(187.5);
    });
    expect(lines.map(read)).toEqual(
      [
        ['QuarantinedItems', 'Count', 4],
        ['DeadLetteredItems', 'Count', 2],
        ['ChecksFailed', 'Count', 0],
        ['DbtDuration', 'Seconds', 187.5],
      ].map(([name, unit, value]) => ({
        namespace: 'chartflow',
        dimensions: [['service']],
        metrics: { [name!]: { unit, value } },
        service: 'chartflow-test',
      })),
    );
  });

  it('writes run outcomes per chart, and per outcome alone (a line per dimension set)', () => {
    const [perChart, perOutcome, ...rest] = emitted((m) => m.runOutcome('checks_failed', 'global', 3));
    expect(rest).toEqual([]);
    expect([read(perChart!), read(perOutcome!)]).toEqual([
      {
        namespace: 'chartflow',
        dimensions: [['chart', 'outcome', 'service']],
        metrics: { Runs: { unit: 'Count', value: 3 } },
        service: 'chartflow-test',
      },
      {
        namespace: 'chartflow',
        dimensions: [['outcome', 'service']],
        metrics: { Runs: { unit: 'Count', value: 3 } },
        service: 'chartflow-test',
      },
    ]);
    expect(perChart).toMatchObject({ outcome: 'checks_failed', chart: 'global' });
    expect(perOutcome).toMatchObject({ outcome: 'checks_failed' });
    expect(perOutcome).not.toHaveProperty('chart');
  });

  it('writes the stale charts’ count, and their names beside it (no dimension)', () => {
    const [stale, fresh] = emitted((m) => {
      m.staleCharts(['us', 'global']);
      m.staleCharts([]);
    });
    expect(read(stale!)).toEqual({
      namespace: 'chartflow',
      dimensions: [['service']],
      metrics: { StaleCharts: { unit: 'Count', value: 2 } },
      service: 'chartflow-test',
    });
    expect(stale!.staleCharts).toBe('global,us');
    expect(read(fresh!).metrics).toEqual({ StaleCharts: { unit: 'Count', value: 0 } });
  });

  it('publishes every metric the port defines, with the dimension sets it declares', () => {
    const lines = emitted((m) => {
      m.rowsLoaded('chart_songs', 1);
      m.providerRequests('reccobeats', 1, 0);
      m.quarantined(1);
      m.deadLettered(1);
      m.checksFailed(1);
      m.dbtDuration(1);
      m.runOutcome('succeeded', 'global', 1);
      m.staleCharts([]);
    });
    const published = lines.flatMap((line) => {
      const { dimensions, metrics } = read(line);
      return Object.entries(metrics).flatMap(([name, { unit }]) =>
        dimensions.map((dimensionSet) => ({ name, unit, dimensionSet })),
      );
    });
    const declared = Object.values(metricDefinitions).flatMap(({ name, unit, dimensionSets }) =>
      dimensionSets.map((set) => ({ name, unit, dimensionSet: [...set, 'service'].sort() })),
    );
    expect(published).toEqual(expect.arrayContaining(declared));
    expect(published).toHaveLength(declared.length);
  });
});
