// The mutations `npm run mutation:dbt` (bin/dbt-mutation.ts) applies to the dbt models, one at a
// time, to show that a dbt unit test fails when a condition of the chart-run gap rule, the
// incremental merge of fct_chart_entries or the SCD2 logic of dim_artists changes (or, for the
// merge key, which unit tests cannot see, that the merge scenario fails). docs/mutation.md
// ("dbt") explains the method and holds the last figure; test/dbt/mutation-list.test.ts checks
// that every snippet below is still found exactly once in its model.

/** The logic a mutation belongs to. */
export type MutationArea = 'gap rule' | 'run columns' | 'incremental merge' | 'SCD2' | 'chart runs mart';

export interface DbtMutation {
  /** Unique, short, stable: names the mutation in the table and with `--only`. */
  readonly id: string;
  /** The model file, relative to the dbt project directory. */
  readonly file: string;
  readonly area: MutationArea;
  /** Text found exactly once in the file. */
  readonly original: string;
  readonly replacement: string;
  /** What the edit changes, in a few words. */
  readonly change: string;
  /**
   * Why the mutation cannot be caught, when it is equivalent: the mutated SQL gives the same rows
   * for every input the model can get.
   */
  readonly equivalent?: string;
  /**
   * Set on a change the unit tests cannot see: dbt unit tests compare the model's SELECT only,
   * never the delete+insert dbt applies after it. The runner then also builds the model twice on
   * a small stage (bin/dbt-mutation.ts, the merge scenario) and checks the fact it leaves.
   */
  readonly mergeScenario?: true;
}

const entries = 'models/marts/core/fct_chart_entries.sql';
const artists = 'models/marts/core/dim_artists.sql';
const runs = 'models/marts/analysis/fct_chart_runs.sql';

const gapRule: DbtMutation[] = [
  {
    id: 'gap-gt-to-gte',
    file: entries,
    area: 'gap rule',
    original: "'chart_date', 'day') }} > {{ max_gap }}",
    replacement: "'chart_date', 'day') }} >= {{ max_gap }}",
    change: 'gap > max_gap → >= (a gap of exactly 2 days would end the run)',
  },
  {
    id: 'gap-off-by-one-up',
    file: entries,
    area: 'gap rule',
    original: "'chart_date', 'day') }} > {{ max_gap }}",
    replacement: "'chart_date', 'day') }} > {{ max_gap }} + 1",
    change: 'gap > max_gap → > max_gap + 1 (a gap of 3 days would stay in the run)',
  },
  {
    id: 'gap-first-day-no-start',
    file: entries,
    area: 'gap rule',
    original: 'when coalesce(previous_date_here, prior_date) is null then 1',
    replacement: 'when coalesce(previous_date_here, prior_date) is null then 0',
    change: 'a first appearance no longer starts a run',
  },
  {
    id: 'gap-first-day-ignores-fact',
    file: entries,
    area: 'gap rule',
    original: 'when coalesce(previous_date_here, prior_date) is null then 1',
    replacement: 'when previous_date_here is null then 1',
    change: 'first-appearance test: coalesce(previous_date_here, prior_date) → previous_date_here',
  },
  {
    id: 'gap-ignores-fact',
    file: entries,
    area: 'gap rule',
    original: "{{ dbt.datediff('coalesce(previous_date_here, prior_date)', 'chart_date', 'day') }}",
    replacement: "{{ dbt.datediff('previous_date_here', 'chart_date', 'day') }}",
    change: 'gap measured from the batch only: prior_date dropped from the coalesce',
  },
  {
    id: 'gap-coalesce-swapped',
    file: entries,
    area: 'gap rule',
    original: "{{ dbt.datediff('coalesce(previous_date_here, prior_date)', 'chart_date', 'day') }}",
    replacement: "{{ dbt.datediff('coalesce(prior_date, previous_date_here)', 'chart_date', 'day') }}",
    change: 'gap coalesce order swapped: the fact’s last day before the batch wins over the batch’s',
  },
  {
    id: 'gap-lag-across-charts',
    file: entries,
    area: 'gap rule',
    original: 'lag(chart_date) over (partition by chart_id, track_id order by chart_date)',
    replacement: 'lag(chart_date) over (partition by track_id order by chart_date)',
    change: 'previous day window: chart_id dropped from the partition',
  },
  {
    id: 'gap-lag-reversed',
    file: entries,
    area: 'gap rule',
    original: 'lag(chart_date) over (partition by chart_id, track_id order by chart_date)',
    replacement: 'lag(chart_date) over (partition by chart_id, track_id order by chart_date desc)',
    change: 'previous day window: order by chart_date → chart_date desc (the next day, not the previous)',
  },
];

const runColumns: DbtMutation[] = [
  {
    id: 'last-charted-ignores-fact',
    file: entries,
    area: 'run columns',
    original: 'coalesce(previous_date_here, prior_date) as last_charted_date',
    replacement: 'previous_date_here as last_charted_date',
    change: 'last_charted_date: prior_date dropped from the coalesce',
  },
  {
    id: 'last-charted-coalesce-swapped',
    file: entries,
    area: 'run columns',
    original: 'coalesce(previous_date_here, prior_date) as last_charted_date',
    replacement: 'coalesce(prior_date, previous_date_here) as last_charted_date',
    change: 'last_charted_date: coalesce order swapped',
  },
  {
    id: 'last-position-ignores-fact',
    file: entries,
    area: 'run columns',
    original: 'case when previous_date_here is null then prior_position else previous_position_here end',
    replacement: 'previous_position_here',
    change: 'last position: the fact’s prior_position dropped',
  },
  {
    id: 'last-position-condition-inverted',
    file: entries,
    area: 'run columns',
    original: 'case when previous_date_here is null then prior_position',
    replacement: 'case when previous_date_here is not null then prior_position',
    change: 'last position: previous_date_here is null → is not null',
  },
  {
    id: 'lag-position-across-charts',
    file: entries,
    area: 'run columns',
    original: 'lag(position) over (partition by chart_id, track_id order by chart_date)',
    replacement: 'lag(position) over (partition by track_id order by chart_date)',
    change: 'previous position window: chart_id dropped from the partition',
  },
  {
    id: 'day-number-across-charts',
    file: entries,
    area: 'run columns',
    original: 'row_number() over (partition by chart_id, track_id order by chart_date) as day_number_here',
    replacement: 'row_number() over (partition by track_id order by chart_date) as day_number_here',
    change: 'total days window: chart_id dropped from the partition',
  },
  {
    id: 'run-number-frame-1-preceding',
    file: entries,
    area: 'run columns',
    original:
      'sum(starts_run) over (\n            partition by chart_id, track_id\n            order by chart_date\n            rows between unbounded preceding and current row',
    replacement:
      'sum(starts_run) over (\n            partition by chart_id, track_id\n            order by chart_date\n            rows between 1 preceding and current row',
    change: 'run number frame: rows between unbounded preceding → 1 preceding',
  },
  {
    id: 'run-number-across-charts',
    file: entries,
    area: 'run columns',
    original: 'sum(starts_run) over (\n            partition by chart_id, track_id',
    replacement: 'sum(starts_run) over (\n            partition by track_id',
    change: 'run number window: chart_id dropped from the partition',
  },
  {
    id: 'run-number-no-coalesce',
    file: entries,
    area: 'run columns',
    original: 'coalesce(prior_run_number, 0) + sum(starts_run)',
    replacement: 'prior_run_number + sum(starts_run)',
    change: 'coalesce(prior_run_number, 0) dropped',
  },
  {
    id: 'run-start-frame-1-preceding',
    file: entries,
    area: 'run columns',
    original:
      'max(case when starts_run = 1 then chart_date end) over (\n            partition by chart_id, track_id\n            order by chart_date\n            rows between unbounded preceding and current row',
    replacement:
      'max(case when starts_run = 1 then chart_date end) over (\n            partition by chart_id, track_id\n            order by chart_date\n            rows between 1 preceding and current row',
    change: 'run start frame: rows between unbounded preceding → 1 preceding',
  },
  {
    id: 'run-start-any-day',
    file: entries,
    area: 'run columns',
    original: 'max(case when starts_run = 1 then chart_date end)',
    replacement: 'max(chart_date)',
    change: 'run start: starts_run = 1 condition dropped (every day starts its run)',
  },
  {
    id: 'run-start-ignores-fact',
    file: entries,
    area: 'run columns',
    original: 'coalesce(run_started_here, prior_run_started_date)',
    replacement: 'run_started_here',
    change: 'first_charted_date: coalesce(run_started_here, prior_run_started_date) dropped',
  },
  {
    id: 'previous-position-on-entry',
    file: entries,
    area: 'run columns',
    original: 'case when starts_run = 0 then last_position end as previous_position',
    replacement: 'last_position as previous_position',
    change: 'previous_position: starts_run = 0 condition dropped (kept across a re-entry)',
  },
  {
    id: 'positions-moved-on-entry',
    file: entries,
    area: 'run columns',
    original: 'case when starts_run = 0 then last_position - position end',
    replacement: 'last_position - position',
    change: 'positions_moved: starts_run = 0 condition dropped',
  },
  {
    id: 'new-entry-is-run-start',
    file: entries,
    area: 'run columns',
    original: 'last_charted_date is null as is_new_entry',
    replacement: 'starts_run = 1 as is_new_entry',
    change: 'is_new_entry: last_charted_date is null → starts_run = 1',
  },
  {
    id: 're-entry-includes-new',
    file: entries,
    area: 'run columns',
    original: '(starts_run = 1 and last_charted_date is not null) as is_re_entry',
    replacement: '(starts_run = 1) as is_re_entry',
    change: 'is_re_entry: "and last_charted_date is not null" dropped',
  },
  {
    id: 'days-on-chart-across-runs',
    file: entries,
    area: 'run columns',
    original: 'partition by chart_id, track_id, chart_run_number order by chart_date',
    replacement: 'partition by chart_id, track_id order by chart_date',
    change: 'days_on_chart window: chart_run_number dropped from the partition',
  },
  {
    id: 'days-on-chart-any-prior-run',
    file: entries,
    area: 'run columns',
    original: 'case when chart_run_number = prior_run_number then prior_run_days else 0 end',
    replacement: 'coalesce(prior_run_days, 0)',
    change: 'days_on_chart: chart_run_number = prior_run_number condition dropped',
  },
  {
    id: 'total-days-no-coalesce',
    file: entries,
    area: 'run columns',
    original: 'coalesce(prior_total_days, 0) + day_number_here',
    replacement: 'prior_total_days + day_number_here',
    change: 'coalesce(prior_total_days, 0) dropped',
  },
];

const merge: DbtMutation[] = [
  {
    id: 'merge-key-without-chart',
    file: entries,
    area: 'incremental merge',
    original: "unique_key=['chart_id', 'chart_date'],",
    replacement: "unique_key=['chart_date'],",
    change: 'merge key without chart_id (a day of one chart deletes that day of every chart)',
    mergeScenario: true,
  },
  {
    id: 'merge-key-whole-grain',
    file: entries,
    area: 'incremental merge',
    original: "unique_key=['chart_id', 'chart_date'],",
    replacement: "unique_key=['chart_id', 'chart_date', 'track_id'],",
    change: 'merge key on the whole grain (a track that left a replayed day would stay)',
    mergeScenario: true,
  },
  {
    id: 'recompute-from-latest',
    file: entries,
    area: 'incremental merge',
    original: 'min(chart_date) as from_date',
    replacement: 'max(chart_date) as from_date',
    change: 'recompute from the latest staged day of a chart, not the earliest',
  },
  {
    id: 'kept-from-after',
    file: entries,
    area: 'incremental merge',
    original: 'and existing.chart_date >= recompute_from.from_date',
    replacement: 'and existing.chart_date > recompute_from.from_date',
    change: 'kept days: chart_date >= from_date → >',
    equivalent:
      'from_date is a staged day of the chart, and `not exists` already drops the staged days from kept: the day from_date itself is never kept either way',
  },
  {
    id: 'kept-across-charts',
    file: entries,
    area: 'incremental merge',
    original:
      'inner join recompute_from\n        on recompute_from.chart_id = existing.chart_id\n        and existing.chart_date >=',
    replacement: 'inner join recompute_from\n        on existing.chart_date >=',
    change: 'kept days: the join on chart_id dropped (other charts’ days recomputed)',
  },
  {
    id: 'kept-staged-days',
    file: entries,
    area: 'incremental merge',
    original: 'where not exists (',
    replacement: 'where exists (',
    change: 'kept days: not exists → exists',
  },
  {
    id: 'kept-not-exists-without-chart',
    file: entries,
    area: 'incremental merge',
    original: 'where staged.chart_id = existing.chart_id\n          and staged.chart_date',
    replacement: 'where staged.chart_date',
    change: 'kept days: chart_id dropped from the not-exists (a day staged on one chart hides it on another)',
  },
  {
    id: 'kept-not-exists-without-date',
    file: entries,
    area: 'incremental merge',
    original: '\n          and staged.chart_date = existing.chart_date',
    replacement: '',
    change: 'kept days: chart_date dropped from the not-exists (no later day kept)',
  },
  {
    id: 'prior-includes-from-day',
    file: entries,
    area: 'incremental merge',
    original: 'and existing.chart_date < recompute_from.from_date',
    replacement: 'and existing.chart_date <= recompute_from.from_date',
    change: 'prior state: chart_date < from_date → <= (a replayed day follows itself)',
  },
  {
    id: 'prior-across-charts',
    file: entries,
    area: 'incremental merge',
    original:
      'inner join recompute_from\n        on recompute_from.chart_id = existing.chart_id\n        and existing.chart_date <',
    replacement: 'inner join recompute_from\n        on existing.chart_date <',
    change: 'prior state: the join on chart_id dropped',
  },
  {
    id: 'prior-oldest-day',
    file: entries,
    area: 'incremental merge',
    original: 'order by existing.chart_date desc\n        ) as recency',
    replacement: 'order by existing.chart_date\n        ) as recency',
    change: 'prior state window: order by chart_date desc → asc (the first day, not the last)',
  },
  {
    id: 'prior-partition-without-chart',
    file: entries,
    area: 'incremental merge',
    original: 'partition by existing.chart_id, existing.track_id',
    replacement: 'partition by existing.track_id',
    change: 'prior state window: chart_id dropped from the partition',
  },
  {
    id: 'prior-any-recency',
    file: entries,
    area: 'incremental merge',
    original: 'where recency = 1',
    replacement: 'where recency <= 2',
    change: 'prior state: recency = 1 → <= 2 (the last two days, not the last)',
  },
  {
    id: 'prior-joined-without-chart',
    file: entries,
    area: 'incremental merge',
    original: 'on prior_state.chart_id = sequenced.chart_id\n        and prior_state.track_id',
    replacement: 'on prior_state.track_id',
    change: 'prior state join: chart_id dropped',
  },
  {
    id: 'changed-includes-staged',
    file: entries,
    area: 'incremental merge',
    original: 'where recomputed.is_staged = 0\n      and (',
    replacement: 'where (',
    change: 'changed days: is_staged = 0 dropped',
    equivalent:
      'changed_days only adds days to what is written, and every staged day is written anyway (`is_staged = 1 or …`)',
  },
  {
    id: 'changed-null-unsafe',
    file: entries,
    area: 'incremental merge',
    original: '\n            or (existing.{{ column }} is null and recomputed.{{ column }} is null)',
    replacement: '',
    change: 'changed days: the null-safe part of the comparison dropped (a change to or from null is missed)',
    equivalent:
      'a run column changes to or from null only together with one that is never null: previous_position and positions_moved are null exactly when is_new_entry or is_re_entry is true, last_charted_date exactly when is_new_entry is; first_charted_date, the day counts and the run number are never null. So a changed row is found without the null-safe part',
  },
  {
    id: 'changed-negation-dropped',
    file: entries,
    area: 'incremental merge',
    original: '        not (\n            existing.{{ column }}',
    replacement: '        (\n            existing.{{ column }}',
    change: 'changed days: not (equal) → (equal): unchanged days written, changed ones not',
  },
  {
    id: 'changed-join-without-track',
    file: entries,
    area: 'incremental merge',
    original: '\n        and existing.track_id = recomputed.track_id',
    replacement: '',
    change: 'changed days: track_id dropped from the join (rows compared with other tracks’)',
  },
  {
    id: 'changed-join-without-date',
    file: entries,
    area: 'incremental merge',
    original: '\n        and existing.chart_date = recomputed.chart_date\n        and existing.track_id',
    replacement: '\n        and existing.track_id',
    change: 'changed days: chart_date dropped from the join',
  },
  {
    id: 'written-staged-and-changed',
    file: entries,
    area: 'incremental merge',
    original: 'where recomputed.is_staged = 1\n       or changed_days.chart_id is not null',
    replacement: 'where recomputed.is_staged = 1\n       and changed_days.chart_id is not null',
    change: 'incremental where: or → and',
  },
  {
    id: 'written-only-changed',
    file: entries,
    area: 'incremental merge',
    original: 'where recomputed.is_staged = 1\n       or changed_days.chart_id is not null',
    replacement: 'where changed_days.chart_id is not null',
    change: 'incremental where: is_staged = 1 dropped (staged days written only when changed)',
  },
  {
    id: 'written-every-kept-day',
    file: entries,
    area: 'incremental merge',
    original: 'where recomputed.is_staged = 1\n       or changed_days.chart_id is not null',
    replacement: 'where true',
    change: 'incremental where dropped (every recomputed day written)',
  },
  {
    id: 'written-changed-chart-any-day',
    file: entries,
    area: 'incremental merge',
    original: '\n        and changed_days.chart_date = recomputed.chart_date',
    replacement: '',
    change: 'written days: chart_date dropped from the changed_days join',
  },
];

const scd2: DbtMutation[] = [
  {
    id: 'scd2-superseded-spellings',
    file: artists,
    area: 'SCD2',
    original: 'where dbt_valid_to is null',
    replacement: 'where 1 = 1',
    change: 'snapshot rows: dbt_valid_to is null dropped (superseded spellings read)',
  },
  {
    id: 'scd2-lag-across-artists',
    file: artists,
    area: 'SCD2',
    original: 'lag(artist_name) over (partition by artist_id order by chart_date)',
    replacement: 'lag(artist_name) over (order by artist_id, chart_date)',
    change: 'previous name window: partition by artist_id dropped',
  },
  {
    id: 'scd2-lag-reversed',
    file: artists,
    area: 'SCD2',
    original: 'lag(artist_name) over (partition by artist_id order by chart_date)',
    replacement: 'lag(artist_name) over (partition by artist_id order by chart_date desc)',
    change: 'previous name window: order by chart_date → desc',
  },
  {
    id: 'scd2-first-day-no-start',
    file: artists,
    area: 'SCD2',
    original: 'where previous_name is null\n',
    replacement: 'where false\n',
    change: 'version start: previous_name is null dropped (the first day seen starts no version)',
  },
  {
    id: 'scd2-rename-no-start',
    file: artists,
    area: 'SCD2',
    original: '\n       or previous_name <> artist_name',
    replacement: '',
    change: 'version start: previous_name <> artist_name dropped',
  },
  {
    id: 'scd2-length-compare-dropped',
    file: artists,
    area: 'SCD2',
    original: "\n       or {{ dbt.length('previous_name') }} <> {{ dbt.length('artist_name') }}",
    replacement: '',
    change: 'version start: the length comparison dropped',
    equivalent:
      "on DuckDB and PostgreSQL, where the unit tests run, 'X' <> 'X ' already; the comparison is there for Redshift, which ignores trailing blanks in varchar equality",
  },
  {
    id: 'scd2-valid-to-across-artists',
    file: artists,
    area: 'SCD2',
    original: 'lead(valid_from) over (partition by artist_id order by valid_from)',
    replacement: 'lead(valid_from) over (order by artist_id, valid_from)',
    change: 'valid_to window: partition by artist_id dropped',
  },
  {
    id: 'scd2-valid-to-previous',
    file: artists,
    area: 'SCD2',
    original: 'lead(valid_from) over (partition by artist_id order by valid_from)',
    replacement: 'lag(valid_from) over (partition by artist_id order by valid_from)',
    change: 'valid_to: lead → lag',
  },
  {
    id: 'scd2-days-from-after',
    file: artists,
    area: 'SCD2',
    original: 'and observed.chart_date >= bounded.valid_from',
    replacement: 'and observed.chart_date > bounded.valid_from',
    change: 'version days: chart_date >= valid_from → >',
  },
  {
    id: 'scd2-days-to-inclusive',
    file: artists,
    area: 'SCD2',
    original: 'or observed.chart_date < bounded.valid_to',
    replacement: 'or observed.chart_date <= bounded.valid_to',
    change: 'version days: chart_date < valid_to → <= (valid_to made inclusive)',
  },
  {
    id: 'scd2-current-version-no-days',
    file: artists,
    area: 'SCD2',
    original: '(bounded.valid_to is null or observed.chart_date',
    replacement: '(observed.chart_date',
    change: 'version days: valid_to is null dropped (the open version gets no days)',
  },
  {
    id: 'scd2-days-across-artists',
    file: artists,
    area: 'SCD2',
    original: 'on observed.artist_id = bounded.artist_id\n        and observed.chart_date >=',
    replacement: 'on observed.chart_date >=',
    change: 'version days: artist_id dropped from the join',
  },
  {
    id: 'scd2-last-seen-first-day',
    file: artists,
    area: 'SCD2',
    original: 'order by observed.chart_date desc',
    replacement: 'order by observed.chart_date',
    change: 'last seen window: order by chart_date desc → asc',
  },
  {
    id: 'scd2-last-seen-per-artist',
    file: artists,
    area: 'SCD2',
    original: 'partition by bounded.artist_id, bounded.valid_from',
    replacement: 'partition by bounded.artist_id',
    change: 'last seen window: valid_from dropped from the partition',
  },
  {
    id: 'scd2-last-seen-any-recency',
    file: artists,
    area: 'SCD2',
    original: '\n    and last_seen.recency = 1',
    replacement: '',
    change: 'last seen join: recency = 1 dropped (a row per day of the version)',
  },
  {
    id: 'scd2-is-current-inverted',
    file: artists,
    area: 'SCD2',
    original: 'bounded.valid_to is null as is_current',
    replacement: 'bounded.valid_to is not null as is_current',
    change: 'is_current: valid_to is null → is not null',
  },
];

const chartRunsMart: DbtMutation[] = [
  {
    id: 'ongoing-lt',
    file: runs,
    area: 'chart runs mart',
    original: "'latest_days.latest_chart_date', 'day') }} <= {{ max_gap }}",
    replacement: "'latest_days.latest_chart_date', 'day') }} < {{ max_gap }}",
    change: 'is_ongoing: gap <= max_gap → <',
  },
  {
    id: 'ongoing-off-by-one-up',
    file: runs,
    area: 'chart runs mart',
    original: "'latest_days.latest_chart_date', 'day') }} <= {{ max_gap }}",
    replacement: "'latest_days.latest_chart_date', 'day') }} <= {{ max_gap }} + 1",
    change: 'is_ongoing: gap <= max_gap → <= max_gap + 1',
  },
  {
    id: 'ongoing-from-earliest-day',
    file: runs,
    area: 'chart runs mart',
    original: 'max(chart_date) as latest_chart_date',
    replacement: 'min(chart_date) as latest_chart_date',
    change: 'is_ongoing: the chart’s latest day → its earliest',
  },
  {
    id: 'runs-re-entry-gte',
    file: runs,
    area: 'chart runs mart',
    original: 'runs.chart_run_number > 1 as is_re_entry',
    replacement: 'runs.chart_run_number >= 1 as is_re_entry',
    change: 'is_re_entry: chart_run_number > 1 → >= 1',
  },
  {
    id: 'runs-span-without-last-day',
    file: runs,
    area: 'chart runs mart',
    original: "'runs.run_last_date', 'day') }} + 1",
    replacement: "'runs.run_last_date', 'day') }}",
    change: 'span_days: + 1 dropped (the last day not counted)',
  },
];

/** Every mutation, in the order the table lists them. */
export const dbtMutations: readonly DbtMutation[] = [
  ...gapRule,
  ...runColumns,
  ...merge,
  ...scd2,
  ...chartRunsMart,
];

/** How many times `snippet` occurs in `text` (occurrences may not overlap). */
export const countOccurrences = (text: string, snippet: string): number => {
  if (snippet === '') return 0;
  let count = 0;
  for (let at = text.indexOf(snippet); at !== -1; at = text.indexOf(snippet, at + snippet.length)) count += 1;
  return count;
};

/**
 * The model's text with the mutation applied, or an error naming the mutation when its snippet is
 * not found exactly once (the list must stay true to the SQL).
 */
export const applyMutation = (text: string, mutation: DbtMutation): string => {
  const found = countOccurrences(text, mutation.original);
  if (found !== 1) {
    throw new Error(
      `mutation ${mutation.id}: its original snippet is found ${found} times in ${mutation.file}, not once: ${JSON.stringify(mutation.original)}`,
    );
  }
  return text.replace(mutation.original, () => mutation.replacement);
};
