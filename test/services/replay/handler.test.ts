import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/replay/handler.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { logger } from '../../../shared/logger.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';

/** The folder store, putting a key straight on the logger as it lists, outside any log-key scope. */
class KeyingStore extends FsObjectStore {
  override async list(prefix: string) {
    logger.appendKeys({ lastListed: prefix });
    return super.list(prefix);
  }
}

describe('Function: replay handler, its line of outcome', () => {
  let home: string;
  let store: KeyingStore;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-replay-handler-'));
    store = new KeyingStore({ root: path.join(home, 'lake') });
    await store.put(lakeKeys.manifest('2026-11-20', 'global'), '{}');
    await store.put(lakeKeys.claim('2026-11-20', 'global', 'run-000001'), '{}');
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('logs the day it replayed with what it reset and announced, and leaves no log key behind', async () => {
    const request = { chartDate: '2026-11-20', chartId: 'global' };
    const lines = await captureLogLines(async () => {
      expect(await makeHandler({ store })(request, localContext('replay'))).toEqual({
        claimsReset: 1,
        objectsReplayed: 1,
      });
      logger.info('after the invocation');
    });
    expect(linesOf(lines, 'day replayed')).toEqual([
      expect.objectContaining({
        ...request,
        claimsReset: 1,
        objectsReplayed: 1,
        lastListed: expect.any(String),
      }),
    ]);
    expect(linesOf(lines, 'after the invocation')).toEqual([
      expect.not.objectContaining({ lastListed: expect.anything() }),
    ]);
  });
});
