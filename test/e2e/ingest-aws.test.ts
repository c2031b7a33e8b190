import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../infra/local/cli/main.js';
import type { CliContext } from '../../infra/local/cli/context.js';
import { ingestWait } from '../../infra/local/cli/aws-ingest.js';
import { createCatalog } from '../../infra/sandbox/catalog.js';
import { parseLocalConfig } from '../../shared/config/config.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { TransformBatches } from '../../shared/lake/transform-batches.js';
import { systemClock } from '../../shared/ports/clock.js';
import { currentChartsCsv } from '../services/chart-fetch/sources/spotify-charts-csv-files.js';
import { AwsPipeline } from '../support/aws-pipeline.js';
import { motoAvailable, startMoto, type Moto } from '../support/moto.js';

const available = motoAvailable();
const days = ['2026-09-10', '2026-09-11', '2026-09-12'];
const catalog = createCatalog();
const rowsOf = (date: string) =>
  catalog.chartFor('br', date).map((trackId) => ({
    trackId,
    trackName: catalog.track(trackId)!.name,
    artistNames: catalog
      .track(trackId)!
      .artistIds.map((a) => catalog.artistName(a, date))
      .join(', '),
  }));

/**
 * `chartflow ingest --target aws` against the pipeline's handlers on moto (test/support/aws-pipeline.ts):
 * the CLI puts the files into the deployed inbox as one batch; S3's notifications run chart-fetch,
 * the tracks are enriched, the stage loader loads each day, and the one that finds every expected
 * day loaded asks for the batch's transform.
 */
describe.skipIf(!available)('chartflow ingest --target aws: several days, one transform (moto)', () => {
  let moto: Moto;
  let pipeline: AwsPipeline;
  let folder: string;
  const out: string[] = [];
  const notes: string[] = [];
  let code: number;

  const context = (): CliContext => ({
    config: () => parseLocalConfig({ CHARTFLOW_HOME: '/nonexistent/chartflow-home' }),
    // The CLI's polls, shortened: the pipeline runs in this process.
    clock: { now: () => systemClock.now(), sleep: (ms) => systemClock.sleep(Math.min(ms, 500)) },
    processEnv: {},
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
    aws: { clientSettings: moto.clientConfig },
  });

  beforeAll(async () => {
    moto = await startMoto();
    pipeline = await AwsPipeline.start({ moto, label: 'ingest-aws' });
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'chartflow-dev',
        TemplateBody: JSON.stringify({
          Resources: { Nothing: { Type: 'AWS::SQS::Queue' } },
          Outputs: {
            LakeBucketName: { Value: pipeline.resources.bucket },
            EventBusName: { Value: pipeline.resources.eventBusName },
          },
        }),
      }),
    );
    cloudFormation.destroy();
    folder = await mkdtemp(path.join(tmpdir(), 'chartflow-ingest-aws-'));
    for (const day of days) {
      await writeFile(path.join(folder, `regional-br-daily-${day}.csv`), currentChartsCsv(rowsOf(day)));
    }
    code = await main(
      ['node', 'chartflow', 'ingest', '--target', 'aws', '--region', 'us-east-1', '--wait', '--json', folder],
      context(),
    );
    await pipeline.idle();
  }, 600_000);
  afterAll(async () => {
    await pipeline?.close();
    await moto?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('puts the files into the inbox under their batch, after the days it expects', async () => {
    expect(code).toBe(0);
    const summary = JSON.parse(out.at(-1)!) as { batchId: string; keys: string[]; ended: boolean };
    expect(summary.keys).toEqual(
      days.map((d) => lakeKeys.inboxBatchChart(summary.batchId, `regional-br-daily-${d}.csv`)),
    );
    const expected = await new TransformBatches(pipeline.store).expected(summary.batchId);
    expect(expected?.days).toEqual(days.map((chartDate) => ({ chartId: 'br-daily', chartDate })));
    expect(summary.ended).toBe(true);
  });

  it('runs every day to success in one transform: one batch, one dbt task, three loads', () => {
    const { batchId, runs } = JSON.parse(out.at(-1)!) as { batchId: string; runs: RunRecord[] };
    expect(runs.map((r) => [r.chartId, r.chartDate, r.status])).toEqual(
      days.map((d) => ['br-daily', d, 'succeeded']),
    );
    expect(new Set(runs.map((r) => r.batch?.batchId))).toEqual(new Set([batchId]));
    expect(runs.every((r) => r.batch?.loads === 3)).toBe(true);
    expect(new Set(runs.map((r) => r.transform?.taskId)).size).toBe(1);
    expect(pipeline.failures).toEqual([]);
  });

  it('follows the batch on stderr and polls no longer than it takes', () => {
    expect(notes[0]).toMatch(
      /^chartflow: \[1\/3\] put .*regional-br-daily-2026-09-10\.csv into inbox\/charts\/batch=/,
    );
    expect(notes).toContainEqual(expect.stringMatching(/waiting for the 3 day\(s\) of batch/));
    expect(ingestWait.polls).toBeGreaterThan(1);
  });
});
