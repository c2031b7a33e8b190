import { describe, expect, it } from 'vitest';
import { fromStageCsv, toStageCsv } from '../../../shared/records/csv.js';
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

  it('refuses a file whose header is not the table', () => {
    expect(() => fromStageCsv('song_artists', 'a,b\n1,2\n', 'some/key.csv')).toThrow(/some\/key.csv/);
  });
});
