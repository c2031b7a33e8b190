import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../../infra/sandbox/prng.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { fromStageCsv, toStageCsv, type CellValue } from '../../../shared/records/csv.js';
import { columnNames, stageTableNames } from '../../../shared/records/stage-tables.js';
import { trickyNames } from '../ports/warehouse.contract.js';

describe('Function: toStageCsv', () => {
  const rows = trickyNames.map((name, i) => ({
    chart_id: 'global',
    chart_date: '2026-11-20',
    run_id: 'r1',
    extracted_at: '2026-11-21 06:00:00.000',
    track_id: `t${i}`,
    artist_position: 1,
    artist_id: `a${i}`,
    artist_name: name,
  }));

  it('round-trips every tricky name unchanged (RFC 4180)', () => {
    const parsed = fromStageCsv('song_artists', toStageCsv('song_artists', rows));
    expect(parsed.map((r) => r.artist_name ?? '')).toEqual(trickyNames);
  });

  it('ends records with LF, a CR only inside a quoted name', () => {
    const csv = toStageCsv('song_artists', rows);
    const outsideQuotes = csv.replace(/"(?:[^"]|"")*"/g, '');
    expect(outsideQuotes).not.toContain('\r');
    expect(outsideQuotes.split('\n')).toHaveLength(rows.length + 2); // header, rows, the last LF
    expect(trickyNames.some((name) => name.includes('\r'))).toBe(true);
  });

  it('quotes every text so an empty string differs from a NULL', () => {
    const csv = toStageCsv('song_artists', [
      { ...rows[0], artist_name: '' },
      { ...rows[0], artist_id: null },
    ]);
    const [, first, second] = csv.split('\n');
    expect(first).toContain(',""');
    expect(second).toMatch(/,,/);
  });

  // toStageCsv was csv-stringify with these options; it is written by hand for speed, and must
  // write the same bytes.
  const byCsvStringify = (columns: string[], rows: readonly Record<string, CellValue>[]) =>
    stringify(
      rows.map((row) => columns.map((c) => row[c] ?? null)),
      {
        header: true,
        columns,
        record_delimiter: '\n',
        quoted_string: true,
        cast: { boolean: (value) => (value ? 'true' : 'false') },
      },
    );

  it('writes byte for byte what csv-stringify writes in the same dialect, for any cells', () => {
    const rng = createRng(20261207);
    const texts = [...trickyNames, '"', '""', ',', '\n', '\r', 'a"b"c', ' ', 'plain', '🎵', '\u0000'];
    const numbers = [0, -0, 1, -1, 42, 1.5, -2.25, 1e21, 1.5e-7, 123456789012, NaN, Infinity, -Infinity];
    const anyCell = (): CellValue => {
      const kind = rng.next();
      if (kind < 0.1) return null;
      if (kind < 0.15) return undefined;
      if (kind < 0.25) return rng.chance(0.5);
      if (kind < 0.5) return rng.pick(numbers);
      if (kind < 0.8) return rng.pick(texts);
      return Array.from({ length: rng.int(0, 3) }, () => rng.pick(texts)).join('');
    };
    for (const table of stageTableNames) {
      const columns = columnNames(table);
      for (const size of [0, 1, 50]) {
        const rows = Array.from({ length: size }, () =>
          Object.fromEntries(columns.flatMap((c) => (rng.chance(0.05) ? [] : [[c, anyCell()]]))),
        );
        expect(toStageCsv(table, rows), `${table}, ${size} rows`).toBe(byCsvStringify(columns, rows));
      }
    }
  });

  it('refuses a file whose header is not the table', () => {
    expect(() => fromStageCsv('song_artists', 'a,b\n1,2\n', 'some/key.csv')).toThrow(/some\/key.csv/);
    expect(() => fromStageCsv('song_artists', 'a,b\n1,2\n')).toThrow(
      `song_artists: the header is not the song_artists columns (${columnNames('song_artists').join(',')})`,
    );
  });

  const lineageOf = (runId: string) => ({
    chart_id: 'global',
    chart_date: '2026-03-02',
    run_id: runId,
    extracted_at: '2026-03-02T06:00:00.000Z',
  });

  it.each([
    ['cut in the middle of a row', (csv: string) => csv.slice(0, csv.lastIndexOf(',') - 1)],
    ['cut inside a quoted cell', (csv: string) => csv.slice(0, csv.lastIndexOf('"'))],
  ])('refuses a file %s with an InvalidRecordError naming the file and the line', (_, cut) => {
    const csv = toStageCsv('song_artists', [
      {
        ...lineageOf('r1'),
        track_id: 't1',
        artist_position: 1,
        artist_id: 'a1',
        artist_name: 'One, "the first"',
      },
      {
        ...lineageOf('r1'),
        track_id: 't2',
        artist_position: 1,
        artist_id: 'a2',
        artist_name: 'Two, "the second"',
      },
    ]);
    let thrown: unknown;
    try {
      fromStageCsv('song_artists', cut(csv), 'raw/part.song_artists.csv');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidRecordError);
    // csv-parse's own error stays behind it, with its code, for whoever debugs the file.
    expect((thrown as Error).cause).toMatchObject({ code: expect.stringMatching(/^CSV_/) });
    expect((thrown as Error).message).toMatch(
      /^raw\/part\.song_artists\.csv: not a song_artists CSV: .*line/i,
    );
  });
});
