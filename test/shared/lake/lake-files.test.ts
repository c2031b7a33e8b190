import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import {
  bytesOf,
  checkFiles,
  describeProblems,
  lakeFileOf,
  problemOf,
  sha256Of,
  type FileProblem,
} from '../../../shared/lake/lake-files.js';

const hashOf = (text: string) => sha256Of(text);

describe('Function: bytesOf', () => {
  it('encodes text as UTF-8', () => {
    expect([...bytesOf('é€')]).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  });

  it('hands bytes on as they are, without copying them', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(bytesOf(bytes)).toBe(bytes);
  });
});

describe('Function: lakeFileOf', () => {
  it('records the size in bytes, not characters, of a text and of the same bytes', () => {
    const text = 'chart_date,rank\n2024-01-01,é\n';
    const fromText = lakeFileOf('raw/a.csv', text, 1);
    const fromBytes = lakeFileOf('raw/a.csv', bytesOf(text), 1);
    expect(fromText).toEqual({ key: 'raw/a.csv', bytes: text.length + 1, sha256: hashOf(text), rows: 1 });
    expect(fromBytes).toEqual(fromText);
  });
});

describe('Function: problemOf', () => {
  const file = lakeFileOf('raw/a.csv', 'abc', 0);

  it('says a file is gone', () => {
    expect(problemOf(file, undefined)).toEqual({
      key: 'raw/a.csv',
      kind: 'missing',
      detail: 'the file is gone',
    });
  });

  it('says what size the store holds and what size the manifest says', () => {
    expect(problemOf(file, { bytes: 5, sha256: file.sha256 })).toEqual({
      key: 'raw/a.csv',
      kind: 'size',
      detail: '5 bytes, the manifest says 3',
    });
  });

  it('names the two checksums by their first twelve hex digits', () => {
    const other = hashOf('abd');
    expect(problemOf(file, { bytes: 3, sha256: other })).toEqual({
      key: 'raw/a.csv',
      kind: 'checksum',
      detail: `SHA-256 ${other.slice(0, 12)}…, the manifest says ${file.sha256.slice(0, 12)}…`,
    });
  });

  it('finds no problem in a file that is what its manifest says', () => {
    expect(problemOf(file, { bytes: 3, sha256: file.sha256 })).toBeUndefined();
  });
});

describe('Function: checkFiles', () => {
  let home: string;
  let store: FsObjectStore;

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-lake-files-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('reports each problem once, in the given order, over more files than it checks at once', async () => {
    const files = [];
    for (let i = 0; i < 40; i += 1) {
      const key = `raw/part-${String(i).padStart(2, '0')}.csv`;
      const body = `row ${i}\n`;
      files.push(lakeFileOf(key, body, 1));
      if (i !== 1 && i !== 20) await store.put(key, i === 35 ? `ROW ${i}\n` : body);
    }
    const problems = await checkFiles(store, files);
    expect(problems.map(({ key, kind }) => ({ key, kind }))).toEqual([
      { key: 'raw/part-01.csv', kind: 'missing' },
      { key: 'raw/part-20.csv', kind: 'missing' },
      { key: 'raw/part-35.csv', kind: 'checksum' },
    ]);
  });

  it('finds nothing wrong with no files to check', async () => {
    expect(await checkFiles(store, [])).toEqual([]);
  });
});

describe('Function: describeProblems', () => {
  const problem = (n: number): FileProblem => ({
    key: `raw/${n}.csv`,
    kind: 'missing',
    detail: 'the file is gone',
  });

  it('names every problem, separated by semicolons, when there are no more than it shows', () => {
    expect(describeProblems([problem(1), problem(2), problem(3)])).toBe(
      'raw/1.csv: missing (the file is gone); raw/2.csv: missing (the file is gone); raw/3.csv: missing (the file is gone)',
    );
    expect(describeProblems([problem(1)])).toBe('raw/1.csv: missing (the file is gone)');
  });

  it('names the first three problems and counts the rest', () => {
    expect(describeProblems([1, 2, 3, 4, 5].map(problem))).toBe(
      'raw/1.csv: missing (the file is gone); raw/2.csv: missing (the file is gone); ' +
        'raw/3.csv: missing (the file is gone); and 2 more',
    );
  });

  it('names as many problems as it is asked to show', () => {
    expect(describeProblems([1, 2].map(problem), 1)).toBe(
      'raw/1.csv: missing (the file is gone); and 1 more',
    );
  });
});
