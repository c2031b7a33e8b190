import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/stage-cleanup/handler.js';
import { toEnvelope } from '../../../shared/events/bus-event.js';
import {
  dbtContainerName,
  ecsTaskStateChange,
  transformEnvironment,
} from '../../../shared/events/ecs-task-event.js';
import { logger } from '../../../shared/logger.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';

const batchId = '20261120T050000000Z-b0000001';

/** The dbt task's state change, as EventBridge delivers it. */
const taskChanged = (lastStatus: string) =>
  toEnvelope(
    {
      source: 'aws.ecs',
      detailType: ecsTaskStateChange,
      detail: {
        taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/chartflow/0123456789abcdef',
        lastStatus,
        containers: [{ name: dbtContainerName, exitCode: 0 }],
        overrides: {
          containerOverrides: [{ name: dbtContainerName, environment: transformEnvironment({ batchId }) }],
        },
      },
    },
    { id: 'e1', time: new Date('2026-11-20T06:30:00.000Z'), region: 'eu-west-1', account: '123456789012' },
  );

/** The folder store, putting a key straight on the logger as it reads, outside any log-key scope. */
class KeyingStore extends FsObjectStore {
  override async get(key: string) {
    logger.appendKeys({ lastRead: key });
    logger.info('store read');
    return super.get(key);
  }
}

describe('Function: stage-cleanup handler', () => {
  let home: string;
  let store: KeyingStore;
  // No batch of this test reaches the stage: any call would be a defect of the handler.
  const warehouse = new Proxy({} as Warehouse, {
    get: (_, name) => () => Promise.reject(new Error(`unexpected warehouse call: ${String(name)}`)),
  });
  const invoke = (event: unknown) =>
    makeHandler({ store, warehouse, clock: systemClock })(event, localContext('stage-cleanup'));

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-cleanup-handler-'));
    store = new KeyingStore({ root: path.join(home, 'lake') });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it("ignores a dbt task's change that is not its stop, reading nothing", async () => {
    const lines = await captureLogLines(async () => {
      expect(await invoke(taskChanged('RUNNING'))).toBeUndefined();
    });
    expect(linesOf(lines, 'transform finished')).toEqual([]);
    expect(await store.list('')).toEqual([]);
  });

  it('refuses a stop for a batch the lake does not have, and leaves no log key behind as it fails', async () => {
    const lines = await captureLogLines(async () => {
      await expect(invoke(taskChanged('STOPPED'))).rejects.toThrow(
        `stopped for batch ${batchId}, which the lake does not have`,
      );
      logger.info('after the invocation');
    });
    // The lake was read under the batch's id, and the key put on the logger meanwhile...
    expect(linesOf(lines, 'store read')[0]).toMatchObject({ batchId, lastRead: expect.any(String) });
    // ...is gone once the invocation ends, with the batch's.
    expect(linesOf(lines, 'after the invocation')).toEqual([
      expect.not.objectContaining({ lastRead: expect.anything() }),
    ]);
    expect(linesOf(lines, 'after the invocation')[0]).not.toHaveProperty('batchId');
  });
});
