import { unitIntervalFeatures } from '../../../shared/records/stage-tables.js';

/**
 * The report's questions to the marts (docs/report.md), one query each, in SQL that DuckDB,
 * PostgreSQL and Redshift all run: `:chart_id`, `:date_from` and `:date_to` are bound, never spliced.
 * Every query reads only the `marts` schema; each names the columns the report shows, and orders
 * its rows so the same warehouse always gives the same report.
 */

/**
 * How many rows a section shows: the top of the chart, the tracks whose trajectories are drawn, the
 * longest-staying tracks, artists and new releases. Written into the SQL as the constants they are
 * (the Data API binds parameters as text, which Redshift's LIMIT does not take).
 */
export const reportLimits = { chartNow: 20, trajectories: 10, longest: 15, newReleases: 10 } as const;

/** The period's bounds as dates, in every warehouse's syntax. */
const inPeriod = (column: string) => `${column} between cast(:date_from as date) and cast(:date_to as date)`;

/** The tables of the `marts` schema: a report of a warehouse without them says what is missing. */
export const martTablesSql = `
select table_name
from information_schema.tables
where table_schema = 'marts'
order by table_name`;

/** The last day of the period that the chart has entries for. */
export const lastChartDaySql = `
select cast(max(chart_date) as varchar(10)) as chart_date, count(distinct chart_date) as days
from marts.fct_chart_entries
where chart_id = :chart_id and ${inPeriod('chart_date')}`;

/** The top of the chart on a day: moves, days on the chart, the lead artist's name as the marts keep it. */
export const chartNowSql = `
select e.position, e.track_id, t.track_name, l.lead_artist_name, e.previous_position, e.positions_moved,
       e.is_new_entry, e.is_re_entry, e.days_on_chart, e.total_days_on_chart, e.chart_run_number
from marts.fct_chart_entries e
join marts.dim_tracks t on t.track_id = e.track_id
left join marts.mart_track_longevity l on l.chart_id = e.chart_id and l.track_id = e.track_id
where e.chart_id = :chart_id and e.chart_date = cast(:day as date) and e.position <= ${reportLimits.chartNow}
order by e.position`;

/** The daily positions in the period of its longest-charting tracks (most days in the period). */
export const trajectoriesSql = `
with longest as (
    select track_id, count(*) as days_in_period, min(position) as best_position
    from marts.fct_chart_entries
    where chart_id = :chart_id and ${inPeriod('chart_date')}
    group by track_id
    order by days_in_period desc, best_position, track_id
    limit ${reportLimits.trajectories}
)
select cast(e.chart_date as varchar(10)) as chart_date, e.track_id, t.track_name, e.position,
       e.chart_run_number, longest.days_in_period
from marts.fct_chart_entries e
join longest on longest.track_id = e.track_id
join marts.dim_tracks t on t.track_id = e.track_id
where e.chart_id = :chart_id and ${inPeriod('e.chart_date')}
order by longest.days_in_period desc, longest.best_position, e.track_id, e.chart_date`;

/** How long runs last: the runs on the chart at any time in the period, by their length in days. */
export const runLengthsSql = `
select days_on_chart, count(*) as runs, sum(case when is_ongoing then 1 else 0 end) as ongoing
from marts.fct_chart_runs
where chart_id = :chart_id
  and run_last_date >= cast(:date_from as date) and run_started_date <= cast(:date_to as date)
group by days_on_chart
order by days_on_chart`;

/** The tracks that stayed longest, over every day the warehouse holds. */
export const longestTracksSql = `
select track_name, lead_artist_name, total_days_on_chart, chart_runs, longest_run_days, peak_position
from marts.mart_track_longevity
where chart_id = :chart_id
order by total_days_on_chart desc, peak_position, track_id
limit ${reportLimits.longest}`;

/** The artists whose tracks stayed longest, over every day the warehouse holds. */
export const longestArtistsSql = `
select artist_name, days_on_chart, tracks_charted, chart_runs, peak_position
from marts.mart_artist_longevity
where chart_id = :chart_id
order by days_on_chart desc, peak_position, artist_id
limit ${reportLimits.longest}`;

/** The audio features that are shares (0 to 1), which one scale can show side by side. */
export const shareFeatures = unitIntervalFeatures;

const featureAverages = shareFeatures.map((f) => `avg_${f}`).join(', ');

/** The average features of the entries in each band of positions. */
export const featuresByBandSql = `
select position_band, position_band_order, entries, entries_with_features, ${featureAverages}
from marts.mart_features_by_position_band
where chart_id = :chart_id
order by position_band_order`;

/** Charting tracks against the tracks seen only in a catalog sample. */
export const chartingVsCatalogSql = `
select catalog_group, tracks, tracks_with_features, ${featureAverages}
from marts.mart_charting_vs_catalog
order by catalog_group`;

/** Where the features of the period's charting tracks came from; `none`: no features. */
export const featureSourcesSql = `
select coalesce(t.features_source, 'none') as features_source, count(*) as tracks
from marts.dim_tracks t
where t.track_id in (
    select track_id from marts.fct_chart_entries where chart_id = :chart_id and ${inPeriod('chart_date')}
)
group by coalesce(t.features_source, 'none')
order by tracks desc, features_source`;

/** Per ISO week of the period: new releases on the chart, how many entered, how high and how long they went. */
export const newReleasesWeeklySql = `
select cast(n.iso_week_start_date as varchar(10)) as week_start, n.iso_year, n.iso_week,
       count(*) as new_releases,
       sum(case when n.debuted_in_week then 1 else 0 end) as entered,
       min(n.best_position) as best_position,
       round(avg(cast(l.total_days_on_chart as decimal(12, 2))), 1) as avg_total_days_on_chart
from marts.mart_new_releases_weekly n
left join marts.mart_track_longevity l on l.chart_id = n.chart_id and l.track_id = n.track_id
where n.chart_id = :chart_id
  and n.iso_week_start_date between cast(:week_from as date) and cast(:date_to as date)
group by n.iso_week_start_date, n.iso_year, n.iso_week
order by n.iso_week_start_date`;

/** The new releases of the period that went highest. */
export const topNewReleasesSql = `
select n.track_name, n.lead_artist_name, cast(n.released_on as varchar(10)) as released_on,
       min(n.best_position) as best_position, max(l.total_days_on_chart) as total_days_on_chart
from marts.mart_new_releases_weekly n
left join marts.mart_track_longevity l on l.chart_id = n.chart_id and l.track_id = n.track_id
where n.chart_id = :chart_id
  and n.iso_week_start_date between cast(:week_from as date) and cast(:date_to as date)
group by n.track_id, n.track_name, n.lead_artist_name, n.released_on
order by best_position, total_days_on_chart desc, n.track_id
limit ${reportLimits.newReleases}`;
