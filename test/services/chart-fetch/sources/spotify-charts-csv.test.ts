import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../../shared/errors.js';
import {
  parseChartsCsv,
  readChartsCsvFile,
  type ChartsCsvRawRow,
} from '../../../../services/chart-fetch/sources/spotify-charts-csv.js';
import {
  currentChartsCsv,
  fakeTrackId,
  legacyChartsCsv,
  legacyNoteLine,
  type ChartsCsvRowSpec,
} from './spotify-charts-csv-files.js';

// Rows as they appear on real charts, then names that break naive CSV readers.
const rows: readonly ChartsCsvRowSpec[] = [
  {
    trackId: '2ZyrAym0sRLwt4PhGotHuI',
    trackName: 'LA VILLA',
    artistNames: 'Ryan Castro, Kapo, Gangsta',
    streams: 1_989_059,
  },
  {
    trackId: '2lTm559tuIvatlT1u0JYG2',
    trackName: 'BAILE INoLVIDABLE',
    artistNames: 'Bad Bunny',
    streams: 1_649_272,
  },
  {
    trackId: fakeTrackId(3),
    trackName: 'She Said "Never"',
    artistNames: 'DJ "Snake Eyes", Tyler, the Lighthouse',
  },
  { trackId: fakeTrackId(4), trackName: 'Line One\nLine Two', artistNames: 'The Newline\nCollective' },
  { trackId: fakeTrackId(5), trackName: 'Carriage\r\nReturn', artistNames: 'CRLF Kid' },
  { trackId: fakeTrackId(6), trackName: 'Rockstar 👩‍🎤', artistNames: '🌈 Rainbow Kid' },
  { trackId: fakeTrackId(7), trackName: '\u200Fيا ليل يا عين', artistNames: '\u200Fفرقة القمر' },
  { trackId: fakeTrackId(8), trackName: '  Spaces Around  ', artistNames: ' Trailing Space Collective ' },
];

const expectedEntries = (specs: readonly ChartsCsvRowSpec[]) =>
  specs.map((row, i) => ({
    position: i + 1,
    trackId: row.trackId,
    trackName: row.trackName,
    artistNames: row.artistNames,
    streams: expect.any(Number) as unknown,
  }));

const refusal = (run: () => unknown): Error => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRecordError);
    return error as Error;
  }
  throw new Error('expected the file to be refused');
};

describe('Function: parseChartsCsv', () => {
  describe('charts.spotify.com files', () => {
    it('reads a daily file with its BOM and CRLF line ends, every name exactly as written', () => {
      const text = currentChartsCsv(rows, { eol: '\r\n' });
      expect(text.startsWith('\uFEFFrank,uri,')).toBe(true);

      const parsed = parseChartsCsv(Buffer.from(text, 'utf8'), 'regional-global-daily-2024-05-01.csv');

      expect(parsed.layout).toBe('current-daily');
      expect(parsed.skipped).toEqual([]);
      expect(parsed.entries).toEqual(expectedEntries(rows));
    });

    it('reads the same file with LF line ends and no BOM', () => {
      const parsed = parseChartsCsv(currentChartsCsv(rows, { eol: '\n', bom: false }), 'f.csv');

      expect(parsed.entries).toEqual(expectedEntries(rows));
    });

    it('tells a weekly header (weeks_on_chart) from a daily one', () => {
      expect(parseChartsCsv(currentChartsCsv(rows, { period: 'weekly' }), 'f.csv').layout).toBe(
        'current-weekly',
      );
    });

    it('keeps the streams as numbers, and an empty streams cell as unknown', () => {
      const parsed = parseChartsCsv(
        currentChartsCsv([rows[0]!, { ...rows[1]!, streams: null }, { ...rows[2]!, streams: 0 }]),
        'f.csv',
      );

      expect(parsed.entries.map((e) => e.streams)).toEqual([1_989_059, null, 0]);
    });

    it('reads a row exactly as a real file has it', () => {
      const text =
        '\uFEFFrank,uri,artist_names,track_name,source,peak_rank,previous_rank,weeks_on_chart,streams\n' +
        '1,"spotify:track:2ZyrAym0sRLwt4PhGotHuI","Ryan Castro, Kapo, Gangsta","LA VILLA","AWOO Corp./Sony Music Latin",1,1,9,"1989059"\n' +
        '2,"spotify:track:2lTm559tuIvatlT1u0JYG2","Bad Bunny","BAILE INoLVIDABLE","Rimas Entertainment LLC.",1,2,61,"1649272"\n';

      expect(parseChartsCsv(text, 'regional-ar-weekly-2026-03-05.csv')).toEqual({
        layout: 'current-weekly',
        skipped: [],
        entries: [
          {
            position: 1,
            trackId: '2ZyrAym0sRLwt4PhGotHuI',
            trackName: 'LA VILLA',
            artistNames: 'Ryan Castro, Kapo, Gangsta',
            streams: 1_989_059,
          },
          {
            position: 2,
            trackId: '2lTm559tuIvatlT1u0JYG2',
            trackName: 'BAILE INoLVIDABLE',
            artistNames: 'Bad Bunny',
            streams: 1_649_272,
          },
        ],
      });
    });
  });

  describe('spotifycharts.com files (the older site)', () => {
    const real =
      'Position,"Track Name",Artist,Streams,URL\n' +
      '1,"In My Feelings",Drake,43950715,https://open.spotify.com/track/0bAkKNCQfWkexHFn7fIKns\n' +
      '2,"Don’t Matter To Me",Drake,33681056,https://open.spotify.com/track/36ONiya0OANYknz0GgJmwB\n' +
      '3,SAD!,XXXTENTACION,28909080,https://open.spotify.com/track/3ee8Jmje8o58CHK66QrVC2\n';
    const realEntries = [
      ['0bAkKNCQfWkexHFn7fIKns', 'In My Feelings', 43_950_715],
      ['36ONiya0OANYknz0GgJmwB', 'Don’t Matter To Me', 33_681_056],
      ['3ee8Jmje8o58CHK66QrVC2', 'SAD!', 28_909_080],
    ];

    it.each([
      ['under the note line', `${legacyNoteLine}\n${real}`],
      ['without the note line', real],
      ['with CRLF line ends and a BOM', `\uFEFF${legacyNoteLine}\r\n${real.replace(/\n/g, '\r\n')}`],
    ])('reads a file %s', (_, text) => {
      const parsed = parseChartsCsv(text, 'regional-global-daily-2018-07-20.csv');

      expect(parsed.layout).toBe('legacy');
      expect(parsed.skipped).toEqual([]);
      expect(parsed.entries.map((e) => [e.trackId, e.trackName, e.streams])).toEqual(realEntries);
      expect(parsed.entries.map((e) => e.artistNames)).toEqual(['Drake', 'Drake', 'XXXTENTACION']);
    });

    it('keeps names with commas, quotes, newlines, emoji and right-to-left text', () => {
      for (const note of [true, false]) {
        const parsed = parseChartsCsv(legacyChartsCsv(rows, { note }), 'f.csv');
        expect(parsed.entries).toEqual(expectedEntries(rows));
      }
    });
  });

  describe('bad rows', () => {
    const bad: readonly ChartsCsvRowSpec[] = [
      rows[0]!,
      { ...rows[1]!, link: '' },
      rows[2]!,
      { ...rows[3]!, rank: 'four' },
      { ...rows[4]!, rank: '0' },
      { ...rows[5]!, link: 'spotify:local:Artist:Album:Song:180' },
      rows[6]!,
      { ...rows[7]!, link: 'https://open.spotify.com/album/2ZyrAym0sRLwt4PhGotHuI' },
    ];

    it('skips each bad row with its reason and its cells, and lets the rest through at positions 1..N', () => {
      const parsed = parseChartsCsv(currentChartsCsv(bad), 'regional-global-daily-2024-05-01.csv');

      expect(parsed.entries.map((e) => [e.position, e.trackId])).toEqual([
        [1, rows[0]!.trackId],
        [2, rows[2]!.trackId],
        [3, rows[6]!.trackId],
      ]);
      expect(parsed.skipped.map((s) => [s.position, s.reason])).toEqual([
        [2, 'invalid row: uri: not a spotify:track:<22-character id> URI'],
        [4, 'invalid row: rank: not a positive whole number'],
        [5, 'invalid row: rank: not a positive whole number'],
        [6, 'invalid row: uri: not a spotify:track:<22-character id> URI'],
        [8, 'invalid row: uri: not a spotify:track:<22-character id> URI'],
      ]);
      const raw = parsed.skipped[1]!.raw as ChartsCsvRawRow;
      expect(raw).toMatchObject({ file: 'regional-global-daily-2024-05-01.csv', row: 4 });
      expect(raw.header[0]).toBe('rank');
      expect(raw.cells.slice(0, 4)).toEqual([
        'four',
        `spotify:track:${rows[3]!.trackId}`,
        rows[3]!.artistNames,
        rows[3]!.trackName,
      ]);
    });

    it('skips a legacy row without a track URL, or with streams that are not a number', () => {
      const text = legacyChartsCsv([rows[0]!, { ...rows[1]!, link: '' }, rows[2]!]).replace(
        `,${5_000_000 - 2 * 7_919},`,
        ',"1,234",',
      );

      const parsed = parseChartsCsv(text, 'f.csv');

      expect(parsed.entries.map((e) => e.trackId)).toEqual([rows[0]!.trackId]);
      expect(parsed.skipped.map((s) => s.reason)).toEqual([
        'invalid row: URL: not an https://open.spotify.com/track/<22-character id> URL',
        'invalid row: Streams: not a whole number',
      ]);
    });

    it('skips a row with a negative stream count, saying it must not be negative', () => {
      const current = parseChartsCsv(
        currentChartsCsv([rows[0]!, { ...rows[1]!, streams: -1_649_272 }]),
        'f.csv',
      );
      const legacy = parseChartsCsv(legacyChartsCsv([rows[0]!, { ...rows[1]!, streams: -5 }]), 'f.csv');

      expect(current.entries.map((e) => e.trackId)).toEqual([rows[0]!.trackId]);
      expect(current.skipped.map((s) => s.reason)).toEqual(['invalid row: streams: must not be negative']);
      expect(legacy.skipped.map((s) => s.reason)).toEqual(['invalid row: Streams: must not be negative']);
    });

    it('skips a row whose cells do not match the header', () => {
      const text = `${currentChartsCsv(rows.slice(0, 2), { eol: '\n' })}3,"spotify:track:${fakeTrackId(9)}","A","B"\n`;

      const parsed = parseChartsCsv(text, 'f.csv');

      expect(parsed.entries).toHaveLength(2);
      expect(parsed.skipped).toMatchObject([
        { position: 3, reason: 'invalid row: 4 cells where the header has 9' },
      ]);
    });

    it('skips a row whose rank does not follow the one above it', () => {
      const parsed = parseChartsCsv(
        currentChartsCsv([
          rows[0]!,
          { ...rows[1]!, rank: 3 },
          { ...rows[2]!, rank: 2 },
          { ...rows[3]!, rank: 4 },
        ]),
        'f.csv',
      );

      expect(parsed.entries.map((e) => [e.position, e.trackId])).toEqual([
        [1, rows[0]!.trackId],
        [2, rows[1]!.trackId],
        [3, rows[3]!.trackId],
      ]);
      expect(parsed.skipped.map((s) => s.reason)).toEqual([
        'invalid rank: 2 does not follow rank 3 above it',
      ]);
    });

    it('keeps the first position of a track listed twice, and says so without calling it invalid', () => {
      const parsed = parseChartsCsv(currentChartsCsv([rows[0]!, rows[1]!, rows[0]!, rows[2]!]), 'f.csv');

      expect(parsed.entries.map((e) => [e.position, e.trackId])).toEqual([
        [1, rows[0]!.trackId],
        [2, rows[1]!.trackId],
        [3, rows[2]!.trackId],
      ]);
      expect(parsed.skipped.map((s) => [s.position, s.reason])).toEqual([
        [3, `duplicate of ${rows[0]!.trackId}: its first position is kept`],
      ]);
    });
  });

  describe('cells and headers at the edges', () => {
    const dailyHeader =
      'rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams';
    /** A daily file whose rows have these streams cells, as written. */
    const withStreams = (cells: readonly string[], header = dailyHeader) =>
      [
        header,
        ...cells.map((cell, i) => `${i + 1},spotify:track:${fakeTrackId(i + 1)},A,T,S,1,1,1,"${cell}"`),
      ].join('\n') + '\n';

    it('tells a negative stream count (spaces around it too) from cells that only hold a minus sign somewhere', () => {
      const parsed = parseChartsCsv(withStreams(['12', ' -5 ', '-12abc', '1-2']), 'f.csv');

      expect(parsed.entries.map((e) => e.streams)).toEqual([12]);
      expect(parsed.skipped.map((s) => [s.position, s.reason])).toEqual([
        [2, 'invalid row: streams: must not be negative'],
        [3, 'invalid row: streams: not a whole number'],
        [4, 'invalid row: streams: not a whole number'],
      ]);
    });

    it('skips a stream count too large to be read exactly', () => {
      const parsed = parseChartsCsv(withStreams(['99999999999999999999']), 'f.csv');

      expect(parsed.entries).toEqual([]);
      expect(parsed.skipped.map((s) => s.reason)).toEqual(['invalid row: streams: too large']);
    });

    it('skips a row whose rank repeats the one above it', () => {
      const text = withStreams(['1', '2']).replace(`\n2,spotify:track:`, `\n1,spotify:track:`);

      const parsed = parseChartsCsv(text, 'f.csv');

      expect(parsed.entries.map((e) => e.trackId)).toEqual([fakeTrackId(1)]);
      expect(parsed.skipped.map((s) => s.reason)).toEqual([
        'invalid rank: 1 does not follow rank 1 above it',
      ]);
    });

    it('reads a header whose names have spaces around them', () => {
      const spaced = dailyHeader
        .split(',')
        .map((name) => ` ${name} `)
        .join(',');

      expect(parseChartsCsv(withStreams(['7'], spaced), 'f.csv').entries).toMatchObject([{ streams: 7 }]);
    });

    it('passes over a note line whose other cells hold only spaces', () => {
      const parsed = parseChartsCsv(`Note: figures are estimates,  , \n${withStreams(['7'])}`, 'f.csv');

      expect(parsed.entries).toMatchObject([{ position: 1, trackId: fakeTrackId(1), streams: 7 }]);
    });

    it('refuses a header with a column more than a layout has, saying which headers it expects', () => {
      const error = refusal(() => parseChartsCsv(withStreams(['7'], `${dailyHeader},extra`), 'f.csv'));

      expect(error.message).toBe(
        `"f.csv" is not a Spotify Charts file: its header is "${dailyHeader},extra", expected "${dailyHeader}" ` +
          '(or weeks_on_chart for a weekly chart) or "Position,Track Name,Artist,Streams,URL"',
      );
    });

    it("keeps the decoder's error as the cause of a file that is not UTF-8", () => {
      const error = refusal(() => parseChartsCsv(Buffer.from([0xff, 0xfe, 0x41, 0x00, 0xd8]), 'f.csv'));

      expect(error.cause).toBeInstanceOf(TypeError);
    });
  });

  describe('files that are not Spotify Charts files', () => {
    it('refuses an unknown header, naming the file and the header it found', () => {
      const error = refusal(() =>
        parseChartsCsv(
          '\uFEFFPosition,"Track Name",Artist,URL\n1,A,B,https://x\n',
          'regional-global-daily-x.csv',
        ),
      );

      expect(error.message).toContain('"regional-global-daily-x.csv" is not a Spotify Charts file');
      expect(error.message).toContain('its header is "Position,Track Name,Artist,URL"');
      expect(error.message).toContain('"Position,Track Name,Artist,Streams,URL"');
    });

    it('finds the header under a note line, but not a data row where the header should be', () => {
      const error = refusal(() =>
        parseChartsCsv(
          `${legacyNoteLine}\n${legacyChartsCsv(rows, { note: false }).split('\n').slice(1).join('\n')}`,
          'f.csv',
        ),
      );

      expect(error.message).toContain(`its header is "1,LA VILLA`);
    });

    it('refuses an empty file, or one with only a note', () => {
      expect(refusal(() => parseChartsCsv('', 'f.csv')).message).toContain('no header at all');
      expect(refusal(() => parseChartsCsv(`${legacyNoteLine}\n`, 'f.csv')).message).toContain(
        'no header at all',
      );
    });

    it('refuses a file that is not UTF-8 or not CSV', () => {
      expect(
        refusal(() => parseChartsCsv(Buffer.from([0xff, 0xfe, 0x41, 0x00, 0xd8]), 'f.csv')).message,
      ).toMatch(/^"f\.csv" is not a readable CSV file/);
      expect(refusal(() => parseChartsCsv('rank,uri\n1,"spotify:track:x\n', 'f.csv')).message).toMatch(
        /^"f\.csv" is not a readable CSV file: .*quote/i,
      );
    });
  });
});

describe('Function: readChartsCsvFile', () => {
  it('reads the chart and the day from the name, the entries from the rows, and keeps the bytes', () => {
    const body = Buffer.from(currentChartsCsv(rows), 'utf8');

    const file = readChartsCsvFile('regional-global-daily-2024-05-01.csv', body);

    expect(file.day).toEqual({ chartId: 'global-daily', chartDate: '2024-05-01' });
    expect(file.layout).toBe('current-daily');
    expect(file.snapshot.source).toBe('spotify-charts-csv:regional-global-daily-2024-05-01.csv');
    expect(file.snapshot.entries).toHaveLength(rows.length);
    expect(file.snapshot.raw).toBe(body);
  });

  it('records a latest file under the dated name it goes into the inbox with', () => {
    const file = readChartsCsvFile(
      'regional-br-weekly-latest.csv',
      currentChartsCsv(rows, { period: 'weekly' }),
      {
        latestDate: '2024-04-25',
      },
    );

    expect(file.day).toEqual({ chartId: 'br-weekly', chartDate: '2024-04-25' });
    expect(file.snapshot.source).toBe('spotify-charts-csv:regional-br-weekly-2024-04-25.csv');
  });

  it('reads an older weekly file under its week name', () => {
    const file = readChartsCsvFile('regional-us-weekly-2020-01-03--2020-01-10.csv', legacyChartsCsv(rows));

    expect(file.day).toEqual({ chartId: 'us-weekly', chartDate: '2020-01-09' });
    expect(file.layout).toBe('legacy');
  });

  it('refuses a file whose name says weekly and whose header says daily', () => {
    expect(
      refusal(() => readChartsCsvFile('regional-global-weekly-2024-04-25.csv', currentChartsCsv(rows)))
        .message,
    ).toBe(
      `"regional-global-weekly-2024-04-25.csv" is named as a weekly chart, but its header is a daily chart's`,
    );
  });

  it('refuses a bad name before reading the rows', () => {
    expect(refusal(() => readChartsCsvFile('top50.csv', 'not, a, chart')).message).toMatch(
      /"top50\.csv" is not named as a Spotify Charts file/,
    );
  });
});
