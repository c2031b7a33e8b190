import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbtWorkerPaths } from '../../../../infra/adapters/embedded/dbt-worker.js';

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../../..');
const { python, workerScript } = dbtWorkerPaths(root);

/**
 * One process of the worker's kind: the cache loaded from `cacheFile` and installed, the given
 * templates compiled and rendered by a Jinja environment (with `extraFilter` when asked), the
 * cache saved (pruned when asked); prints what it rendered and what the cache did, as JSON.
 */
const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
from jinja_code_cache import JinjaCodeCache
import jinja2
cache = JinjaCodeCache(sys.argv[2])
cache.install()
request = json.loads(sys.argv[3])
env = jinja2.Environment()
if request.get("extraFilter"):
    env.filters["shout"] = lambda s: s.upper()
rendered, errors = [], []
for source in request["templates"]:
    try:
        rendered.append(env.from_string(source).render(name="chart"))
    except jinja2.TemplateSyntaxError as error:
        errors.append(error.message)
cache.save(prune=request.get("prune", False))
print(json.dumps({"rendered": rendered, "errors": errors, "hits": cache.hits, "entries": len(cache.codes)}))
`;

interface Outcome {
  rendered: string[];
  errors: string[];
  hits: number;
  entries: number;
}

describe('JinjaCodeCache (the dbt worker keeps compiled Jinja templates between processes)', () => {
  let folder: string;
  let cacheFile: string;

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'chartflow-jinja-cache-'));
    cacheFile = path.join(folder, 'dbt', 'jinja-code.marshal');
    await writeFile(path.join(folder, 'probe.py'), script);
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const run = async (request: {
    templates: string[];
    extraFilter?: boolean;
    prune?: boolean;
  }): Promise<Outcome> => {
    const { stdout } = await execFileAsync(python, [
      path.join(folder, 'probe.py'),
      path.dirname(workerScript),
      cacheFile,
      JSON.stringify(request),
    ]);
    return JSON.parse(stdout) as Outcome;
  };

  const templates = [
    'select * from {{ name }}',
    '{% for i in range(2) %}{{ i }}{% endfor %} {{ name | upper }}',
  ];

  it('compiles a template once: a later process renders it from the file, the same', async () => {
    const first = await run({ templates });
    expect(first).toEqual({ rendered: ['select * from chart', '01 CHART'], errors: [], hits: 0, entries: 2 });
    expect(existsSync(cacheFile)).toBe(true);

    const second = await run({ templates });
    expect(second).toEqual({ ...first, hits: 2 });
  });

  it('compiles again for an environment whose filters differ, and keeps both', async () => {
    await run({ templates: ['{{ name }}'] });
    const other = await run({ templates: ['{{ name }}'], extraFilter: true });
    expect(other).toMatchObject({ rendered: ['chart'], hits: 0, entries: 2 });
  });

  it('keeps what an edited template replaced until a pruning save, which keeps only what its process used', async () => {
    await run({ templates: ['select 1 from {{ name }}', '{{ name }}'] });
    // The first template edited: a save that does not prune keeps its old version too.
    expect(await run({ templates: ['select 2 from {{ name }}', '{{ name }}'] })).toMatchObject({
      hits: 1,
      entries: 3,
    });
    // A build's save prunes: what it did not use leaves the file.
    expect(await run({ templates: ['select 3 from {{ name }}', '{{ name }}'], prune: true })).toMatchObject({
      hits: 1,
      entries: 2,
    });
    expect(await run({ templates: ['select 3 from {{ name }}', '{{ name }}'] })).toMatchObject({
      hits: 2,
      entries: 2,
    });
  });

  it('still fails a template with a syntax error, and keeps nothing of it', async () => {
    const outcome = await run({ templates: ['{% for %}', '{{ name }}'] });
    expect(outcome.errors).toHaveLength(1);
    expect(outcome).toMatchObject({ rendered: ['chart'], entries: 1 });
  });

  it('drops a file it cannot read, or one another version of Python, Jinja or dbt wrote, and writes it anew', async () => {
    await run({ templates });
    // Written by other versions: the same entries under another version stamp.
    await execFileAsync(python, [
      '-c',
      'import marshal, sys; v, c = marshal.load(open(sys.argv[1], "rb")); marshal.dump(((0,) + tuple(v[1:]), c), open(sys.argv[1], "wb"))',
      cacheFile,
    ]);
    expect(await run({ templates })).toMatchObject({ hits: 0, entries: 2 });
    expect(await run({ templates })).toMatchObject({ hits: 2 });

    await writeFile(cacheFile, 'not marshal data');
    expect(await run({ templates })).toMatchObject({
      rendered: ['select * from chart', '01 CHART'],
      hits: 0,
    });
    expect(await run({ templates })).toMatchObject({ hits: 2 });
  });
});
