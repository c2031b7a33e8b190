import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  freshnessHours,
  metricDefinitions,
  metricsNamespace,
  runOutcomes,
} from '../../../shared/ports/metrics.js';
import { stageTableNames } from '../../../shared/records/stage-tables.js';
import { packageServerless, type CompiledTemplate } from '../../support/serverless-template.js';

/** The stack `serverless package --stage test` compiles, as `${AWS::StackName}` names it. */
const stackName = 'chartflow-test';
const providers = ['spotify', 'reccobeats'];

/** A metric of a widget: [namespace, name, dimension, value, …, options?], or an expression. */
const widgetMetricSchema = z.array(z.union([z.string(), z.record(z.string(), z.unknown())]));
const dashboardSchema = z.object({
  widgets: z.array(
    z.object({
      type: z.enum(['metric', 'alarm', 'text']),
      properties: z
        .object({
          title: z.string(),
          metrics: z.array(widgetMetricSchema).optional(),
          alarms: z.array(z.string()).optional(),
        })
        .loose(),
    }),
  ),
});

/** A metric a widget plots: its namespace, name and dimensions (the options left out). */
interface Plotted {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * The dashboard's body as CloudFormation would make it: `${AWS::StackName}` and `${AWS::Region}`
 * resolved, and each `${Resource.Attribute}` as `<Resource.Attribute>`, so that what it refers to
 * can be read.
 */
const dashboardOf = (template: CompiledTemplate) => {
  const body = (template.Resources.Dashboard!.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
  const resolved = body
    .replaceAll('${AWS::StackName}', stackName)
    .replaceAll('${AWS::Region}', 'us-east-1')
    .replace(/\$\{([A-Za-z0-9]+\.[A-Za-z]+)\}/g, '<$1>');
  expect(resolved).not.toContain('${');
  return dashboardSchema.parse(JSON.parse(resolved));
};

const plottedOf = (dashboard: z.infer<typeof dashboardSchema>): Plotted[] =>
  dashboard.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? [])
      .map((metric) => metric.filter((part): part is string => typeof part === 'string'))
      .filter((parts) => parts.length >= 2)
      .map(([namespace, name, ...pairs]) => ({
        namespace: namespace!,
        name: name!,
        dimensions: Object.fromEntries(
          pairs.flatMap((part, i) => (i % 2 === 0 ? [[part, pairs[i + 1]!]] : [])),
        ) as Record<string, string>,
      })),
  );

const expressionsOf = (dashboard: z.infer<typeof dashboardSchema>): string[] =>
  dashboard.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).flatMap((metric) =>
      metric.flatMap((part) =>
        typeof part === 'object' && typeof part.expression === 'string' ? [part.expression] : [],
      ),
    ),
  );

describe('infra/observability.yml: the dashboard and the freshness alarm', () => {
  let dir: string;
  let template: CompiledTemplate;
  let dashboard: z.infer<typeof dashboardSchema>;
  let plotted: Plotted[];
  const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

  beforeAll(async () => {
    ({ dir, template } = await packageServerless('test'));
    dashboard = dashboardOf(template);
    plotted = plottedOf(dashboard);
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("names the dashboard after the stack, and its figures' service after the stack's event bus", () => {
    expect(template.Resources.Dashboard!.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(template.Resources.Dashboard!.Properties.DashboardName).toEqual({ Ref: 'AWS::StackName' });
    // infra/aws/functions/metrics.ts takes the stack's name from the bus's, which every function reads.
    expect(template.Resources.EventBus!.Properties.Name).toEqual({ Ref: 'AWS::StackName' });
    expect(
      template.Resources.TransformLambdaFunction!.Properties.Environment.Variables.CHARTFLOW_EVENT_BUS,
    ).toEqual({
      Ref: 'EventBus',
    });
  });

  it('shows every metric the port defines, of this stack, with dimensions it is published with', () => {
    const ours = plotted.filter((p) => p.namespace === metricsNamespace);
    for (const { name, dimensionSets } of Object.values(metricDefinitions)) {
      const shown = ours.filter((p) => p.name === name);
      const searched = expressionsOf(dashboard).some(
        (e) => e.includes(`MetricName="${name}"`) && e.includes(`service="${stackName}"`),
      );
      expect({ name, shown: shown.length > 0 || searched }).toEqual({ name, shown: true });
      for (const { dimensions } of shown) {
        expect(dimensions.service).toBe(stackName);
        // A metric is its name and its exact dimensions: one the functions never publish stays empty.
        const { service: _service, ...own } = dimensions;
        expect(dimensionSets.map((set) => [...set].sort())).toContainEqual(Object.keys(own).sort());
      }
    }
  });

  it('plots no metric twice in a widget', () => {
    for (const widget of dashboard.widgets) {
      const metrics = (widget.properties.metrics ?? []).map((metric) => JSON.stringify(metric));
      const twice = metrics.filter((metric, i) => metrics.indexOf(metric) !== i);
      expect({ widget: widget.properties.title, twice }).toEqual({
        widget: widget.properties.title,
        twice: [],
      });
    }
  });

  it('shows every dataset, provider and outcome the figures take', () => {
    const valuesOf = (name: string, dimension: string) =>
      plotted.filter((p) => p.name === name).map((p) => p.dimensions[dimension]);
    expect(valuesOf('RowsLoaded', 'dataset').sort()).toEqual([...stageTableNames].sort());
    expect(valuesOf('ProviderRequests', 'provider').sort()).toEqual([...providers].sort());
    expect(valuesOf('ProviderThrottled', 'provider').sort()).toEqual([...providers].sort());
    expect(valuesOf('Runs', 'outcome').sort()).toEqual([...runOutcomes].sort());
  });

  it("shows every function's errors, throttles and duration", () => {
    const functionNames = ofType('AWS::Lambda::Function').map(
      ([, fn]) => fn.Properties.FunctionName as string,
    );
    expect(functionNames.length).toBeGreaterThan(0);
    for (const metric of ['Errors', 'Throttles', 'Duration']) {
      const shown = plotted
        .filter((p) => p.namespace === 'AWS/Lambda' && p.name === metric)
        .map((p) => p.dimensions.FunctionName);
      const missing = functionNames.filter((fn) => !shown.includes(fn));
      expect({ metric, missing }).toEqual({ metric, missing: [] });
      // Only functions of this stack: <stack>-<function>.
      expect(shown.filter((fn) => !fn?.startsWith(`${stackName}-`))).toEqual([]);
    }
  });

  it('shows the depth of every queue an alarm watches, and every alarm of the template', () => {
    const watched = ofType('AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((p) => p.Namespace === 'AWS/SQS')
      .map(
        (p) => (p.Dimensions as { Value: { 'Fn::GetAtt': [string, string] } }[])[0]!.Value['Fn::GetAtt'][0],
      );
    expect(watched.length).toBeGreaterThan(0);
    const depths = plotted
      .filter((p) => p.namespace === 'AWS/SQS' && p.name === 'ApproximateNumberOfMessagesVisible')
      .map((p) => p.dimensions.QueueName);
    expect(depths.sort()).toEqual(watched.map((queue) => `<${queue}.QueueName>`).sort());

    const alarms = dashboard.widgets.flatMap((w) => (w.type === 'alarm' ? (w.properties.alarms ?? []) : []));
    expect(alarms.sort()).toEqual(
      ofType('AWS::CloudWatch::Alarm')
        .map(([id]) => `<${id}.Arn>`)
        .sort(),
    );
  });

  it('alarms when a configured chart goes 26 hours without a successful run, or nothing says', () => {
    expect(freshnessHours).toBe(26);
    const alarm = template.Resources.StaleChartsAlarm!;
    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({
      AlarmName: { 'Fn::Sub': '${AWS::StackName}-charts-stale' },
      Namespace: metricsNamespace,
      MetricName: metricDefinitions.staleCharts.name,
      Dimensions: [{ Name: 'service', Value: { Ref: 'AWS::StackName' } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      // The reconciler emits every hour, 0 included: no figure is itself stale news.
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    // The figure is hourly: two missing or above 0 in a row, not one late one.
    expect(alarm.Properties.Period).toBe(3600);
    expect(alarm.Properties.EvaluationPeriods).toBe(2);
    expect(alarm.Properties.DatapointsToAlarm).toBe(2);
  });
});
