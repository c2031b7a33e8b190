import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import { InvalidRecordError } from '../errors.js';
import { parseJsonOrThrow, parseOrThrow } from '../parse.js';
import { fromStageCsv } from '../records/csv.js';
import { manifestSchema, type Manifest } from '../records/messages.js';
import type { StageTableName } from '../records/stage-tables.js';
import {
  lakeKeys,
  legacyLakeKeys,
  parseRawKey,
  parseTableKey,
  rawPrefix,
  tablePrefix,
  type Dataset,
} from './keys.js';
import {
  chartCsvOfManifest,
  chartCsvSuperseded,
  keysOf,
  newestChartCsv,
  partCsvs,
  partKeysInAnyLayout,
  partOfKey,
} from './layouts.js';
import { checkFiles, fileProblemKinds, lakeFileOf, type LakeFile } from './lake-files.js';
import {
  indexesOf,
  partDigest,
  partManifestSchema,
  readPartManifest,
  type PartManifest,
} from './part-markers.js';

/**
 * `chartflow verify`: the whole lake held to its manifests (docs/reliability.md, "A lake that
 * proves itself"). Every day and chart under `raw/` and `tables/` is checked, in either layout
 * (`layouts.ts`): the files its manifest lists, and
 * the files every part manifest (the body of a part's marker) lists, of every run, since a part's
 * files are written once and stay checkable. Files that nothing lists are named, as are manifests
 * and markers written before checksums (unverified) and those that cannot be read.
 *
 * What is not damage, and is not reported (each is said in the day's notes):
 * - a re-run on its way: it writes the day's payload and chart CSV before its manifest, so a chart
 *   CSV whose every row is one later run's is that run's, and the payload beside it too;
 * - a first run on its way: files of a day that has no manifest yet and was never loaded (no claim);
 * - a part of the manifest's run not yet marked while the run is not loaded (no claim);
 * - a part of an earlier run that a re-run replaced before the part was written: track-attributes
 *   marks no part of a run its manifest no longer names, and the loader never reads it;
 * - the payload of an earlier run that came from the other source (API answer or inbox file);
 * - the legacy chart CSV of an earlier run, when a later run wrote the day in the `tables/` layout.
 */

/** How a file (or a manifest, or a marker) can fail: {@link FileProblemKind}, or not readable at all. */
export const lakeProblemKinds = [...fileProblemKinds, 'unreadable'] as const;
export type LakeProblemKind = (typeof lakeProblemKinds)[number];

/** One file that is not what its manifest says, or that nothing vouches for. */
export interface LakeProblem {
  readonly key: string;
  readonly kind: LakeProblemKind;
  readonly detail: string;
}

/** The kinds that make `verify` fail: everything but `unverified`, which `--seal` can settle. */
export const failingKinds: ReadonlySet<LakeProblemKind> = new Set([
  'missing',
  'size',
  'checksum',
  'unlisted',
  'unreadable',
]);

/** What `verify` found of one day and chart. */
export interface DayVerdict {
  readonly chartDate: string;
  readonly chartId: string;
  /** The run the manifest names, when it could be read. */
  readonly runId: string | undefined;
  /** Files held to their checksums. */
  readonly checked: number;
  readonly problems: readonly LakeProblem[];
  /** Legitimate states met on the way (a run under way, an earlier run's part), in a sentence each. */
  readonly notes: readonly string[];
}

/** What `verify` found of the lake. */
export interface LakeVerdict {
  readonly days: readonly DayVerdict[];
  /** Files held to their checksums, in every day. */
  readonly checked: number;
  /** Problems per kind, in every day. */
  readonly counts: Readonly<Record<LakeProblemKind, number>>;
}

/** Which days and charts to check: every one unless told; dates are YYYY-MM-DD, both ends included. */
export interface LakeRange {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly chartId?: string | undefined;
}

/** A problem in one line: `tables/…/chart_songs.csv: size (1042 bytes, the manifest says 2210)`. */
export const describeLakeProblem = (problem: LakeProblem): string =>
  `${problem.key}: ${problem.kind} (${problem.detail})`;

/** Whether the lake passed: no problem of a {@link failingKinds} kind. */
export const lakeIsSound = (verdict: LakeVerdict): boolean =>
  [...failingKinds].every((kind) => verdict.counts[kind] === 0);

/** Checks every day and chart of the range against its manifests. */
export const verifyLake = async (store: ObjectStore, range: LakeRange = {}): Promise<LakeVerdict> => {
  const days: DayVerdict[] = [];
  for (const day of await daysOf(store, range)) days.push(await verifyDay(store, day));
  const counts = Object.fromEntries(lakeProblemKinds.map((k) => [k, 0])) as Record<LakeProblemKind, number>;
  for (const problem of days.flatMap((d) => d.problems)) counts[problem.kind] += 1;
  return { days, checked: days.reduce((sum, d) => sum + d.checked, 0), counts };
};

/**
 * A day and chart as the listings show it: under `chart_songs` its keys under `raw/chart_songs/…`
 * and `tables/chart_songs/…`; under `song_attributes` those under `raw/song_attributes/…`,
 * `tables/song_attributes/…` and `tables/song_artists/…`.
 */
interface ListedDay {
  readonly chartDate: string;
  readonly chartId: string;
  readonly listing: Readonly<Record<Dataset, readonly ObjectInfo[]>>;
  /** Every listed key of the day. */
  readonly keys: ReadonlySet<string>;
}

/** Where each listed prefix's keys go in a {@link ListedDay}. */
const listedPrefixes = [
  { dataset: 'chart_songs', raw: true },
  { dataset: 'song_attributes', raw: true },
  { dataset: 'chart_songs', table: 'chart_songs' },
  { dataset: 'song_attributes', table: 'song_attributes' },
  { dataset: 'song_attributes', table: 'song_artists' },
] as const;

/**
 * The days and charts under `raw/` and `tables/`, listed (never guessed from dates): a day has a
 * manifest, or at least files; every prefix is listed, so that files of a day without a manifest
 * are seen.
 */
const daysOf = async (store: ObjectStore, range: LakeRange): Promise<ListedDay[]> => {
  // One day asked: list its prefixes only; otherwise each dataset's whole prefix, once.
  const oneDay = range.from !== undefined && range.from === range.to ? range.from : undefined;
  const days = new Map<
    string,
    { chartDate: string; chartId: string; listing: Record<Dataset, ObjectInfo[]> }
  >();
  for (const where of listedPrefixes) {
    const table = 'table' in where ? where.table : undefined;
    const prefix =
      table === undefined
        ? oneDay === undefined
          ? `raw/${where.dataset}/`
          : rawPrefix(where.dataset, oneDay, range.chartId)
        : oneDay === undefined
          ? `tables/${table}/`
          : tablePrefix(table, oneDay, range.chartId);
    for (const info of await store.list(prefix)) {
      const parsed = table === undefined ? parseRawKey(info.key) : parseTableKey(info.key);
      if (!parsed || !inRange(parsed.date, parsed.chart, range)) continue;
      const id = `${parsed.date}/${parsed.chart}`;
      const day = days.get(id) ?? {
        chartDate: parsed.date,
        chartId: parsed.chart,
        listing: { chart_songs: [], song_attributes: [] },
      };
      day.listing[where.dataset].push(info);
      days.set(id, day);
    }
  }
  return [...days.values()]
    .map((day) => {
      // In key order, as one listing gives them: the problems are named in that order.
      for (const listing of Object.values(day.listing))
        listing.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return { ...day, keys: keysOf([...day.listing.chart_songs, ...day.listing.song_attributes]) };
    })
    .sort((a, b) => a.chartDate.localeCompare(b.chartDate) || a.chartId.localeCompare(b.chartId));
};

const inRange = (date: string, chart: string, range: LakeRange) =>
  (range.from === undefined || date >= range.from) &&
  (range.to === undefined || date <= range.to) &&
  (range.chartId === undefined || chart === range.chartId);

/** The manifest of a day as `verify` finds it. */
type ManifestState =
  | { readonly state: 'absent' }
  | { readonly state: 'unreadable'; readonly why: string }
  | { readonly state: 'read'; readonly manifest: Manifest };

const readManifestState = async (store: ObjectStore, key: string): Promise<ManifestState> => {
  const body = await store.get(key);
  if (body === undefined) return { state: 'absent' };
  try {
    return {
      state: 'read',
      manifest: parseJsonOrThrow(manifestSchema, body.toString('utf8'), `manifest ${key}`),
    };
  } catch (error) {
    // Stryker disable next-line ConditionalExpression,StringLiteral: made `true`, the condition changes nothing: parseJsonOrThrow throws InvalidRecordError and nothing else (JSON.parse's error is wrapped, zod's safeParse does not throw; its `false` twin, at the same place, is killed); and a state other than 'absent' and 'read' is handled as unreadable wherever it is read
    if (error instanceof InvalidRecordError) return { state: 'unreadable', why: error.message };
    throw error;
  }
};

const markerPattern = /\/_done\.run=([0-9A-Za-z-]+)\.(part-[0-9a-f]+)\.([0-9a-f]{16})\.([0-9a-f]+)$/;

/** A part's marker, as its key tells it. */
interface Marker {
  readonly key: string;
  readonly runId: string;
  readonly part: string;
  readonly digest: string;
  readonly coverage: string;
}

const markerOf = (key: string): Marker | undefined => {
  const match = markerPattern.exec(key);
  if (!match) return undefined;
  const [, runId, part, digest, coverage] = match as unknown as [string, string, string, string, string];
  return { key, runId, part, digest, coverage };
};

/** The three files of a part, by its name: its CSVs in the layout the listing has them in. */
const partKeys = (day: ListedDay, part: string) => {
  const { attributesKey, artistsKey } = partCsvs(day, part, day.keys);
  return {
    raw: lakeKeys.attributesRaw(day.chartDate, day.chartId, part),
    attributes: attributesKey,
    artists: artistsKey,
  };
};

/** Whether the run has claimed the day's load: then the run was complete, and it is loaded or refused. */
const isClaimed = async (store: ObjectStore, chartDate: string, chartId: string, runId: string) =>
  (await store.list(lakeKeys.claimsPrefix(chartDate, chartId))).some(
    (o) => o.key === lakeKeys.claim(chartDate, chartId, runId),
  );

/** The run ids a stage CSV's rows carry, or `undefined` when it is gone or not that table's CSV. */
const runsOf = async (
  store: ObjectStore,
  table: StageTableName,
  key: string,
): Promise<ReadonlySet<string> | undefined> => {
  const rows = await rowsOf(store, table, key);
  return rows && new Set(rows.map((r) => r.run_id ?? ''));
};

const rowsOf = async (store: ObjectStore, table: StageTableName, key: string) => {
  const body = await store.get(key);
  return body === undefined ? undefined : csvRows(table, body, key);
};

/**
 * A stage CSV's rows, or `undefined` when it is not that table's CSV: another header, or text that
 * is not CSV of its columns at all (a file cut in the middle of a row, which `verify` must name).
 */
const csvRows = (table: StageTableName, body: Buffer, key: string) => {
  const text = body.toString('utf8');
  try {
    return fromStageCsv(table, text, key);
  } /* Stryker disable next-line BlockStatement: emptied, the catch makes the function return undefined all the same */ catch {
    // All fromStageCsv throws, parsing a string, is its InvalidRecordError: not that table's CSV
    // (another header, a row cut short, a quote left open).
    return undefined;
  }
};

/** The one run a CSV's rows all carry, or `undefined`. */
const onlyRun = (runs: ReadonlySet<string> | undefined): string | undefined =>
  runs?.size === 1 ? [...runs][0] : undefined;

/** What a day's checks find, gathered as they go. */
interface Findings {
  readonly problems: LakeProblem[];
  readonly notes: string[];
  checked: number;
}

const verifyDay = async (store: ObjectStore, day: ListedDay): Promise<DayVerdict> => {
  const { chartDate, chartId } = day;
  const found: Findings = { problems: [], notes: [], checked: 0 };
  const state = await readManifestState(store, lakeKeys.manifest(chartDate, chartId));
  if (state.state === 'absent' && !(await hasAnyClaim(store, day))) {
    found.notes.push(
      'no manifest yet: a first run under way, or one that stopped before its manifest; not checked',
    );
    return { chartDate, chartId, runId: undefined, ...found };
  }
  // Stryker disable next-line ConditionalExpression: made `true`, it reads `manifest` of the other states, which have none: undefined as well (its `false` twin, at the same place, is killed)
  const manifest = state.state === 'read' ? state.manifest : undefined;
  await checkChart(store, day, state, found);
  const marked = await checkMarkers(store, day, manifest, found);
  await checkUnmarked(store, day, manifest, marked, found);
  return { chartDate, chartId, runId: manifest?.runId, ...found };
};

const hasAnyClaim = async (store: ObjectStore, day: ListedDay) =>
  (await store.list(lakeKeys.claimsPrefix(day.chartDate, day.chartId))).length > 0;

/** The chart's files: the manifest's, held to its checksums; any other file is unlisted. */
const checkChart = async (
  store: ObjectStore,
  day: ListedDay,
  state: ManifestState,
  found: Findings,
): Promise<void> => {
  const { chartDate, chartId } = day;
  const manifestKey = lakeKeys.manifest(chartDate, chartId);
  const chartKeys = keysOf(day.listing.chart_songs);
  // The chart CSV in either layout (layouts.ts): the newest one listed, and the one the manifest names.
  const newest = newestChartCsv(day, chartKeys);
  const payloads = [lakeKeys.chartRaw(chartDate, chartId), lakeKeys.chartSourceFile(chartDate, chartId)];
  const vouched = new Set<string>([manifestKey]);
  if (state.state !== 'read') {
    found.problems.push(
      state.state === 'absent'
        ? { key: manifestKey, kind: 'missing', detail: 'the day was loaded, and its manifest is gone' }
        : {
            key: manifestKey,
            kind: 'unreadable',
            detail: state.why.replace(`manifest ${manifestKey}: `, ''),
          },
    );
    // What it listed cannot be told: its files are the manifest's problem, not unlisted ones.
    return;
  }
  const { manifest } = state;
  if (manifest.files === undefined) {
    found.problems.push({
      key: manifestKey,
      kind: 'unverified',
      detail: 'written before manifests had checksums: `verify --seal` records them',
    });
    // It names no file: its chart CSV is in either layout (a later run writes `tables/`).
    const chartCsvs = [lakeKeys.chartCsv(chartDate, chartId), legacyLakeKeys.chartCsv(chartDate, chartId)];
    for (const key of [...chartCsvs, ...payloads]) vouched.add(key);
    if (!chartKeys.has(newest))
      found.problems.push({ key: newest, kind: 'missing', detail: "the manifest's chart CSV is gone" });
  } else {
    for (const file of manifest.files) vouched.add(file.key);
    found.checked += manifest.files.length;
    const problems = await checkFiles(store, manifest.files);
    const chartCsv = chartCsvOfManifest(day, manifest.files, chartKeys);
    const rewritten = (key: string) => key === chartCsv || payloads.includes(key);
    // A later run writes the `tables/` layout: a manifest naming a legacy chart CSV with a `tables/`
    // one beside it is being rewritten, though its own chart CSV is untouched.
    const superseded = chartCsvSuperseded(day, chartCsv, chartKeys);
    const rewriting =
      problems.some((p) => rewritten(p.key)) || superseded
        ? await laterRun(store, superseded ? newest : chartCsv, manifest.runId)
        : undefined;
    if (rewriting !== undefined) {
      found.notes.push(
        `run ${rewriting} is rewriting the day: its chart CSV and payload are not the manifest's (run ${manifest.runId}) until its manifest is written`,
      );
      vouched.add(newest);
    }
    found.problems.push(...problems.filter((p) => rewriting === undefined || !rewritten(p.key)));
    // A day fetched from the API and once from the inbox (or the other way) keeps both payloads.
    if (manifest.files.some((f) => payloads.includes(f.key))) {
      for (const key of payloads.filter((k) => chartKeys.has(k) && !vouched.has(k))) {
        vouched.add(key);
        found.notes.push(
          `${key} is the payload of another run, from the other source (API or inbox); no load reads it`,
        );
      }
    }
  }
  await earlierLegacyChart(store, day, manifest.runId, vouched, found);
  for (const key of chartKeys) {
    if (!vouched.has(key))
      found.problems.push({
        key,
        kind: 'unlisted',
        detail: 'the day has a manifest, and it does not list this file',
      });
  }
};

/**
 * A legacy chart CSV (`raw/…/chart_songs.csv`) that the manifest does not name, whose every row is
 * one earlier run's: a re-run of a day written before the `tables/` layout wrote its chart CSV
 * there, and left the earlier run's where it was (no role deletes under `raw/`). No load reads it.
 */
const earlierLegacyChart = async (
  store: ObjectStore,
  day: ListedDay,
  runId: string,
  vouched: Set<string>,
  found: Findings,
): Promise<void> => {
  const legacy = legacyLakeKeys.chartCsv(day.chartDate, day.chartId);
  if (!day.keys.has(legacy) || vouched.has(legacy)) return;
  const run = onlyRun(await runsOf(store, 'chart_songs', legacy));
  if (run === undefined || run >= runId) return;
  vouched.add(legacy);
  found.notes.push(
    `${legacy} is the chart CSV of run ${run}, in the layout before tables/; run ${runId} wrote the day in tables/, and no load reads it`,
  );
};

/** What the markers vouch for: files, and the manifest run's tracks their parts hold. */
interface Marked {
  readonly covered: ReadonlySet<string>;
  readonly tracks: ReadonlySet<string>;
}

/**
 * The parts: every marker's manifest, of every run, held to its checksums. Returns the keys they
 * vouch for (and those a sealed manifest of a day decided from its files lists).
 */
const checkMarkers = async (
  store: ObjectStore,
  day: ListedDay,
  manifest: Manifest | undefined,
  found: Findings,
): Promise<Marked> => {
  // Stryker disable next-line ArrayDeclaration: a key put in `covered` is only ever looked for with a listed key, under raw/, which no other text can equal
  const covered = new Set<string>(manifest?.files?.map((f) => f.key) ?? []);
  const tracks = new Set<string>();
  const markers = day.listing.song_attributes.map((o) => markerOf(o.key)).filter((m) => m !== undefined);
  for (const marker of markers) {
    covered.add(marker.key);
    const read = await readMarker(store, marker, day);
    if (read.state === 'unreadable') {
      // What it listed cannot be told: its part's files are the marker's problem, not unlisted ones.
      found.problems.push({ key: marker.key, kind: 'unreadable', detail: read.why });
      for (const key of partKeysInAnyLayout(day, marker.part)) covered.add(key);
    } else if (read.state === 'empty') {
      found.problems.push({
        key: marker.key,
        kind: 'unverified',
        detail: 'an empty marker, written before part manifests had checksums: `verify --seal` records them',
      });
      for (const key of partKeysInAnyLayout(day, marker.part)) covered.add(key);
      if (marker.runId === manifest?.runId)
        for (const index of indexesOf(marker.coverage)) tracks.add(manifest.trackIds[index] ?? '');
    } else {
      for (const file of read.manifest.files) covered.add(file.key);
      if (marker.runId === manifest?.runId) for (const id of read.manifest.trackIds) tracks.add(id);
      found.checked += read.manifest.files.length;
      found.problems.push(...(await checkFiles(store, read.manifest.files)));
    }
  }
  return { covered, tracks };
};

/** Files no part manifest lists: a part not marked yet, or never to be; anything else is unlisted. */
const checkUnmarked = async (
  store: ObjectStore,
  day: ListedDay,
  manifest: Manifest | undefined,
  { covered, tracks }: Marked,
  found: Findings,
): Promise<void> => {
  const unmarked = new Map<string, string[]>();
  for (const { key } of day.listing.song_attributes.filter((o) => !covered.has(o.key))) {
    const part = partOfKey(day, key);
    if (part === undefined)
      found.problems.push({
        key,
        kind: 'unlisted',
        detail: 'no part manifest lists it, and it is not a part file',
      });
    else unmarked.set(part, [...(unmarked.get(part) ?? []), key]);
  }
  for (const [part, keys] of unmarked) {
    const { attributes, artists } = partKeys(day, part);
    const rows = await rowsOf(store, 'song_attributes', attributes);
    // A delivery that stopped before its attributes CSV left its artists CSV, which names the run too.
    const runRows = rows ?? (await rowsOf(store, 'song_artists', artists));
    const run = onlyRun(runRows && new Set(runRows.map((r) => r.run_id ?? '')));
    const duplicate =
      rows !== undefined &&
      // Stryker disable next-line ConditionalExpression,EqualityOperator: made `true` or `>= 0` it differs only for rows read and none in them, and then the part has no run (`run` is undefined), and `duplicate` is read only for a part of a run (the `false` and `<= 0` mutants here are killed)
      rows.length > 0 &&
      rows.every((r) => tracks.has(r.track_id ?? ''));
    const why =
      manifest &&
      run &&
      (await legitUnmarked(store, day, { manifestRun: manifest.runId, part, run, duplicate }));
    if (why) {
      found.notes.push(why);
      continue;
    }
    if (manifest?.chartCsvMd5 === undefined && run !== undefined && run === manifest?.runId) {
      // A day decided from its files (before markers, or too long for them): its parts get no marker.
      found.problems.push({
        key: attributes,
        kind: 'unverified',
        detail:
          manifest.files === undefined
            ? 'a part of a day written before markers: `verify --seal` records it in the manifest'
            : 'a part of a day too long for part markers: nothing holds its checksums',
      });
      continue;
    }
    const whose = run === undefined ? "its rows are not one run's" : `rows of run ${run}`;
    for (const key of keys)
      found.problems.push({
        key,
        kind: 'unlisted',
        detail: `no manifest or part manifest lists it (${whose})`,
      });
  }
};

/** Why a part without a marker is no damage, or `undefined` when it is unlisted. */
const legitUnmarked = async (
  store: ObjectStore,
  day: ListedDay,
  {
    manifestRun,
    part,
    run,
    duplicate,
  }: { manifestRun: string; part: string; run: string; duplicate: boolean },
): Promise<string | undefined> => {
  if (run < manifestRun)
    return `${part} is a part of run ${run}, which run ${manifestRun} replaced before it was marked; no load reads it`;
  if (run !== manifestRun) return undefined;
  if (!(await isClaimed(store, day.chartDate, day.chartId, run)))
    return `${part} of run ${run} is not marked yet: the run is under way`;
  // A delivery that stopped between its CSVs and its marker, redelivered in other batches: those marked the tracks.
  if (duplicate)
    return `${part} of run ${run} was never marked, and other parts of the run hold its tracks (a delivery that stopped before its marker, redelivered); no load reads it`;
  return undefined;
};

/**
 * The later run that is rewriting the day, when every row of the chart CSV is that one run's: a
 * re-run writes its payload and chart CSV before its manifest (as the stage loader tells it).
 */
const laterRun = async (store: ObjectStore, chartCsv: string, runId: string): Promise<string | undefined> => {
  const run = onlyRun(await runsOf(store, 'chart_songs', chartCsv));
  // Stryker disable next-line ConditionalExpression: made `false` it is equivalent, `undefined > runId` being false all the same: the check is there for the types (made `true`, it is killed)
  if (run === undefined) return undefined;
  return run > runId ? run : undefined;
};

type MarkerState =
  | { readonly state: 'empty' }
  | { readonly state: 'unreadable'; readonly why: string }
  | { readonly state: 'read'; readonly manifest: PartManifest };

const readMarker = async (store: ObjectStore, marker: Marker, day: ListedDay): Promise<MarkerState> => {
  let manifest: PartManifest | undefined;
  try {
    manifest = await readPartManifest(store, marker.key);
  } catch (error) {
    if (error instanceof InvalidRecordError)
      return { state: 'unreadable', why: error.message.replace(`part manifest ${marker.key}: `, '') };
    throw error;
  }
  if (manifest === undefined) return { state: 'empty' };
  const own =
    manifest.part === marker.part &&
    manifest.runId === marker.runId &&
    manifest.chartDate === day.chartDate &&
    manifest.chartId === day.chartId;
  return own
    ? // Stryker disable next-line StringLiteral: checkMarkers handles every state other than 'unreadable' and 'empty' as read
      { state: 'read', manifest }
    : {
        state: 'unreadable',
        why: `it names ${manifest.part} of run ${manifest.runId} (${manifest.chartId} ${manifest.chartDate}), not its own part`,
      };
};

/** What `--seal` did to one day and chart. */
export interface DaySeal {
  readonly chartDate: string;
  readonly chartId: string;
  /** The manifests and markers rewritten, each with how many files it now lists. */
  readonly sealed: readonly { readonly key: string; readonly files: number }[];
  /** What was left unverified, and why, in a sentence each. */
  readonly skipped: readonly { readonly key: string; readonly why: string }[];
}

/**
 * Records, once, the checksums of the files of days and parts written before manifests had them:
 * a manifest without `files` gets them (its payloads and chart CSV; and, on a day decided from
 * files, the manifest run's parts, which have no marker to hold them), an empty marker gets its
 * part manifest. What is written is what the lake holds now, so only what can be told to be the
 * run's is sealed: the chart CSV's rows are the manifest's run and its tracks are the manifest's,
 * a part's CSVs are still the ones its marker's key names (their md5s) and their rows its run's.
 * A verified manifest or marker is never rewritten, and each write is conditional on the version
 * read (`replaceIfMatch`), so a run that rewrites the day meanwhile wins.
 *
 * Sealing writes under `raw/`, which fires the stage loader for the day. It cannot load anything
 * twice: a day is sealed only when its manifest's run has claimed its load, and the loader only
 * ever loads the manifest's run, after creating that claim (create-if-absent): so the events of a
 * seal find it taken (`already_claimed`), and nothing is staged.
 */
export const sealLake = async (store: ObjectStore, range: LakeRange = {}): Promise<DaySeal[]> => {
  const seals: DaySeal[] = [];
  for (const day of await daysOf(store, range)) {
    const seal = await sealDay(store, day);
    if (seal.sealed.length > 0 || seal.skipped.length > 0) seals.push(seal);
  }
  return seals;
};

const sealDay = async (store: ObjectStore, day: ListedDay): Promise<DaySeal> => {
  const { chartDate, chartId } = day;
  const sealed: { key: string; files: number }[] = [];
  const skipped: { key: string; why: string }[] = [];
  const done = () => ({ chartDate, chartId, sealed, skipped });
  const manifestKey = lakeKeys.manifest(chartDate, chartId);
  const read = await store.getWithEtag(manifestKey);
  if (read === undefined) return done();
  let manifest: Manifest;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(read.body.toString('utf8')) as Record<string, unknown>;
    // Stryker disable next-line StringLiteral: the error's message is dropped: the catch says the manifest cannot be read, in its own words
    manifest = parseOrThrow(manifestSchema, json, `manifest ${manifestKey}`);
  } catch {
    skipped.push({ key: manifestKey, why: 'the manifest cannot be read: there is nothing to seal it to' });
    return done();
  }
  const emptyMarkers = day.listing.song_attributes.filter((o) => markerOf(o.key) && o.size === 0);
  const listed = new Set(manifest.files?.map((f) => f.key));
  if (
    manifest.files !== undefined &&
    manifest.chartCsvMd5 === undefined &&
    (await partsOfRun(store, day, manifest.runId)).some((part) => !listed.has(partKeys(day, part).attributes))
  )
    skipped.push({
      key: manifestKey,
      why: 'a day too long for part markers: its parts have no part manifest to hold their checksums, and a verified manifest is never rewritten',
    });
  if (manifest.files !== undefined && emptyMarkers.length === 0) return done();
  if (!(await isClaimed(store, chartDate, chartId, manifest.runId))) {
    skipped.push({
      key: manifestKey,
      why: `its run ${manifest.runId} has not claimed its load (under way, or never complete): seal it once it has loaded`,
    });
    return done();
  }
  const etags = new Map(day.listing.song_attributes.map((o) => [o.key, o.etag]));

  if (manifest.files === undefined) {
    const files = await dayFiles(store, day, manifest, manifest.chartCsvMd5 === undefined);
    if (typeof files === 'string') skipped.push({ key: manifestKey, why: files });
    else if (
      await store.replaceIfMatch(manifestKey, JSON.stringify({ ...json, files }, null, 2), read.etag, {
        contentType: 'application/json',
      })
    )
      sealed.push({ key: manifestKey, files: files.length });
    else
      skipped.push({
        key: manifestKey,
        why: 'the manifest changed while it was sealed (a run rewrote the day)',
      });
  }

  for (const info of emptyMarkers) {
    const marker = markerOf(info.key)!;
    const partManifest = await partManifestOf(store, day, manifest, marker, etags);
    if (typeof partManifest === 'string') {
      skipped.push({ key: marker.key, why: partManifest });
      continue;
    }
    const body = JSON.stringify(
      parseOrThrow(partManifestSchema, partManifest, `the manifest of ${marker.part}`),
    );
    const held = await store.getWithEtag(marker.key);
    if (
      held?.body.byteLength === 0 &&
      (await store.replaceIfMatch(marker.key, body, held.etag, { contentType: 'application/json' }))
    )
      sealed.push({ key: marker.key, files: partManifest.files.length });
    else skipped.push({ key: marker.key, why: 'the marker changed while it was sealed' });
  }
  return done();
};

/** The files a manifest without `files` vouches for, as the lake holds them; or why they cannot be sealed. */
const dayFiles = async (
  store: ObjectStore,
  day: ListedDay,
  manifest: Manifest,
  withParts: boolean,
): Promise<LakeFile[] | string> => {
  const { chartDate, chartId } = day;
  const chartCsv = newestChartCsv(day, day.keys);
  const body = await store.get(chartCsv);
  if (body === undefined) return 'its chart CSV is gone';
  const rows = csvRows('chart_songs', body, chartCsv);
  if (rows === undefined) return 'its chart CSV is not a chart CSV any more';
  if (rows.length === 0 || rows.some((r) => r.run_id !== manifest.runId))
    return `its chart CSV holds rows of another run than the manifest's (${manifest.runId})`;
  if (
    !sameIds(
      // Stryker disable next-line StringLiteral: the manifest's ids are track ids (its schema), which neither '' nor any other text that is not one can equal: a row without a track id makes the two differ either way
      rows.map((r) => r.track_id ?? ''),
      manifest.trackIds,
    )
  )
    return "its chart CSV's tracks are not the manifest's: it changed since its run wrote it";
  const files: LakeFile[] = [];
  for (const key of [lakeKeys.chartRaw(chartDate, chartId), lakeKeys.chartSourceFile(chartDate, chartId)]) {
    const payload = await store.get(key);
    if (payload !== undefined) files.push(lakeFileOf(key, payload, null));
  }
  files.push(lakeFileOf(chartCsv, body, rows.length));
  if (!withParts) return files;
  // A day decided from its files: its parts have no marker, the manifest holds those of its run.
  for (const part of await partsOfRun(store, day, manifest.runId)) {
    const keys = partKeys(day, part);
    const partFiles = await partFilesOf(store, keys);
    if (typeof partFiles === 'string') return `${part}: ${partFiles}`;
    files.push(...partFiles);
  }
  return files;
};

/** The parts of a day whose rows are all of one run, by name. */
const partsOfRun = async (store: ObjectStore, day: ListedDay, runId: string): Promise<string[]> => {
  const parts = new Set(
    day.listing.song_attributes.map((o) => partOfKey(day, o.key)).filter((p) => p !== undefined),
  );
  const ofRun: string[] = [];
  // Stryker disable next-line MethodExpression: ObjectStore.list gives keys sorted, and a part's name comes first in its files' keys, so the parts are met in order already
  for (const part of [...parts].sort()) {
    const attributes = partKeys(day, part).attributes;
    if (onlyRun(await runsOf(store, 'song_attributes', attributes)) === runId) ofRun.push(part);
  }
  return ofRun;
};

/** An empty marker's part manifest, from the part's files as the lake holds them; or why not. */
const partManifestOf = async (
  store: ObjectStore,
  day: ListedDay,
  manifest: Manifest,
  marker: Marker,
  etags: ReadonlyMap<string, string>,
): Promise<PartManifest | string> => {
  const keys = partKeys(day, marker.part);
  const attributesMd5 = etags.get(keys.attributes);
  const artistsMd5 = etags.get(keys.artists);
  if (attributesMd5 === undefined || artistsMd5 === undefined) return "the part's CSVs are gone";
  if (partDigest(attributesMd5, artistsMd5) !== marker.digest)
    return "the part's CSVs changed since its run marked them (rewritten by another run, or by hand)";
  const rows = await rowsOf(store, 'song_attributes', keys.attributes);
  if (rows === undefined || rows.some((r) => r.run_id !== marker.runId))
    return `the part's rows are not all of its run ${marker.runId}`;
  const trackIds = [...new Set(rows.map((r) => r.track_id ?? ''))];
  if (marker.runId === manifest.runId) {
    const marked = indexesOf(marker.coverage).map((index) => manifest.trackIds[index] ?? '');
    if (!sameIds(trackIds, marked)) return "the part's tracks are not the ones its marker covers";
  }
  const files = await partFilesOf(store, keys);
  if (typeof files === 'string') return files;
  return {
    runId: marker.runId,
    chartId: day.chartId,
    chartDate: day.chartDate,
    part: marker.part,
    trackIds,
    files,
  };
};

const partFilesOf = async (
  store: ObjectStore,
  keys: ReturnType<typeof partKeys>,
): Promise<LakeFile[] | string> => {
  const files: LakeFile[] = [];
  const raw = await store.get(keys.raw);
  if (raw !== undefined) files.push(lakeFileOf(keys.raw, raw, null));
  for (const [table, key] of [
    ['song_attributes', keys.attributes],
    ['song_artists', keys.artists],
  ] as const) {
    const body = await store.get(key);
    const rows = body && csvRows(table, body, key);
    if (
      rows === undefined ||
      // Stryker disable next-line ConditionalExpression: made `false` it is equivalent, rows being undefined whenever the body is (made `true`, it is killed)
      body === undefined
    )
      return `${key} is gone, or is not a ${table} CSV`;
    files.push(lakeFileOf(key, body, rows.length));
  }
  return files;
};

const sameIds = (a: readonly string[], b: readonly string[]) => {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((id) => right.has(id));
};
