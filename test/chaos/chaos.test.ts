import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import { martDifferences } from './checks.js';
import { FaultInjector, FaultyStore, InjectedFaultError, ProcessFaults, ProcessGoneError } from './faults.js';
import { References } from './reference.js';
import { runScenario } from './run-scenario.js';
import { fixedSeeds } from './fixed-set.js';
import { describeScenario, drawScenario, faultKinds, type Fault, type Scenario } from './scenario.js';
import type { ObjectStore, PutOptions } from '../../shared/ports/object-store.js';

/**
 * The chaos suite's own tests: scenarios are drawn from their seeds, the checks and faults bite, and
 * the fixed set covers what it should. The fixed set itself runs in `fixed-<n>.test.ts`
 * (fixed-set.ts); `npm run chaos` runs 300 drawn scenarios (docs/chaos.md).
 */

const fault = (kind: Fault['kind'], at: number, times = 1): Fault => ({
  kind,
  op: 0,
  at,
  times,
  param: 0,
  after: false,
});

describe('Feature: chaos scenarios are drawn from their seed', () => {
  it('draws the same scenario, steps and faults, from the same seed', () => {
    expect(drawScenario(90)).toEqual(drawScenario(90));
    expect(describeScenario(drawScenario(90))).toEqual(describeScenario(drawScenario(90)));
    expect(drawScenario(90)).not.toEqual(drawScenario(91));
  });

  it('keeps a fixed set of at least 40 seeds that arms every fault kind and runs every operation', () => {
    const scenarios = fixedSeeds.map(drawScenario);
    expect(new Set(fixedSeeds).size).toBe(fixedSeeds.length);
    expect(fixedSeeds.length).toBeGreaterThanOrEqual(40);
    const armed = new Set(scenarios.flatMap((s) => s.faults.map((f) => f.kind)));
    expect(faultKinds.filter((kind) => !armed.has(kind))).toEqual([]);
    const operations = new Set(scenarios.flatMap((s) => s.operations.map((o) => o.kind)));
    expect([...operations].sort()).toEqual(['backfill', 'ingest', 'replay', 'retry-missing', 'run']);
  });

  it('gives every scenario at most one process fault, and only days its operations fetch', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const scenario = drawScenario(seed);
      expect(scenario.faults.filter((f) => f.kind.startsWith('process.')).length).toBeLessThanOrEqual(1);
      expect(scenario.days.length).toBeGreaterThan(0);
    }
  });
});

describe('Feature: the chaos checks and faults bite', () => {
  const homes: string[] = [];
  afterAll(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

  it('names a mart row lost and a row added, table by table', () => {
    const expected = { fct_chart_entries: ['a', 'b', 'b'], dim_tracks: ['x'] };
    expect(martDifferences(expected, expected)).toEqual([]);
    const problems = martDifferences({ fct_chart_entries: ['a', 'b'], dim_tracks: ['x', 'y'] }, expected);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^marts\.dim_tracks: 0 row\(s\) of the fault-free run missing, 1 row\(s\) more/,
    );
    expect(problems[1]).toMatch(/^marts\.fct_chart_entries: 1 row\(s\) of the fault-free run missing, 0 row/);
  });

  it('writes a truncated body, then fails, on a partial write; a gone process does nothing more', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'chartflow-chaos-store-'));
    homes.push(home);
    const inner = new FsObjectStore({ root: home });
    const injector = new FaultInjector(7);
    const process = new ProcessFaults(injector);
    const store = new FaultyStore(inner, process);
    injector.arm([fault('store.partial-write', 2)], { kill: () => undefined, interrupt: () => undefined });
    await store.put('raw/a.csv', 'complete body');
    await expect(store.put('raw/b.csv', 'a body of some length')).rejects.toThrow(InjectedFaultError);
    expect((await inner.get('raw/b.csv'))!.length).toBeLessThan('a body of some length'.length);
    expect(injector.injected.get('store.partial-write')).toBe(1);

    let killed = 0;
    injector.arm([fault('process.sigkill', 2)], { kill: () => (killed += 1), interrupt: () => undefined });
    await store.get('raw/a.csv');
    await expect(store.put('raw/c.csv', 'c')).rejects.toThrow(ProcessGoneError);
    injector.disarm();
    await expect(store.get('raw/a.csv')).rejects.toThrow(ProcessGoneError);
    expect(killed).toBe(1);
    expect(await inner.get('raw/c.csv')).toBeUndefined();
  });
});

describe('Feature: the chaos checks catch a real loss', () => {
  const references = new References();

  it('catches a lake that loses chart entries silently: a chart CSV written without its last line', async () => {
    const scenario: Scenario = {
      seed: 0,
      days: [{ chartId: 'br', chartDate: '2026-08-01' }],
      operations: [{ kind: 'run', day: '2026-08-01' }],
      faults: [],
    };
    const dropLastLine = (store: ObjectStore): ObjectStore => ({
      put: (key: string, body: string | Uint8Array, options?: PutOptions) =>
        store.put(
          key,
          key.endsWith('/chart_songs.csv')
            ? Buffer.from(body)
                .toString('utf8')
                .replace(/[^\n]*\n$/, '')
            : body,
          options,
        ),
      createIfAbsent: (key, body, options) => store.createIfAbsent(key, body, options),
      get: (key) => store.get(key),
      getWithEtag: (key) => store.getWithEtag(key),
      checksum: (key) => store.checksum(key),
      replaceIfMatch: (key, body, etag, options) => store.replaceIfMatch(key, body, etag, options),
      deleteIfMatch: (key, etag) => store.deleteIfMatch(key, etag),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
      touch: (key) => store.touch(key),
    });
    const outcome = await runScenario(scenario, references, { sabotage: dropLastLine });
    // The loader refuses every cut chart CSV (its size is not the manifest's), so the day never
    // loads: the marts lack all its entries, and verify names the file.
    const violations = outcome.violations.join('\n');
    expect(violations).toMatch(/marts\.fct_chart_entries: 50 row\(s\) of the fault-free run missing/);
    expect(violations).toMatch(
      /verify: br 2026-08-01: tables\/chart_songs\/date=2026-08-01\/chart=br\/chart_songs\.csv: size/,
    );
  }, 600_000);
});
