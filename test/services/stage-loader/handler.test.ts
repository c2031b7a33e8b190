import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/stage-loader/handler.js';
import { logger } from '../../../shared/logger.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { s3EventFactory } from '../../support/factories.js';
import { day, manifestKey } from '../../support/landed-days.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';

/** The folder store, putting a key straight on the logger as it reads, outside any log-key scope. */
class KeyingStore extends FsObjectStore {
  override async get(key: string) {
    logger.appendKeys({ lastRead: key });
    return super.get(key);
  }
}

describe('Function: stage-loader handler, its lines of decision', () => {
  let home: string;
  let store: KeyingStore;
  let published: BusEvent[];
  // A day not landed never reaches the stage: any call would be a defect of the handler.
  const warehouse = new Proxy({} as Warehouse, {
    get: (_, name) => () => Promise.reject(new Error(`unexpected warehouse call: ${String(name)}`)),
  });

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-loader-handler-'));
    store = new KeyingStore({ root: path.join(home, 'lake') });
    published = [];
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('logs each decision with its outcome and day, and leaves no log key behind when the invocation ends', async () => {
    const handler = makeHandler({
      store,
      warehouse,
      bus: { publish: async (event) => void published.push(event) },
      clock: systemClock,
    });
    const lines = await captureLogLines(async () => {
      // The manifest's creation announced, but the lake has no such day (yet): nothing to load.
      expect(await handler(s3EventFactory(manifestKey), localContext('stage-loader'))).toEqual([
        { outcome: 'incomplete', day, missing: null },
      ]);
      logger.info('after the invocation');
    });
    expect(linesOf(lines, 'stage-loader decision')).toEqual([
      expect.objectContaining({ outcome: 'incomplete', day, lastRead: manifestKey }),
    ]);
    expect(linesOf(lines, 'after the invocation')).toEqual([
      expect.not.objectContaining({ lastRead: expect.anything() }),
    ]);
    expect(published).toEqual([]);
  });
});
