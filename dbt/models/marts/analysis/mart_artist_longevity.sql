-- How long each artist stays on each chart (grain: chart_id, artist_id), counting every track that
-- credits them (lead or featured), under the name they go by now.

with

entries as (
    select * from {{ ref('fct_chart_entries') }}
),

credits as (
    select * from {{ ref('bridge_track_artists') }}
),

runs as (
    select * from {{ ref('fct_chart_runs') }}
),

current_artists as (
    select artist_id, artist_name
    from {{ ref('dim_artists') }}
    where is_current
),

entry_days as (
    select
        entries.chart_id,
        credits.artist_id,
        count(*) as track_days_on_chart,
        count(distinct entries.chart_date) as days_on_chart,
        count(distinct entries.track_id) as tracks_charted,
        count(distinct case when credits.is_lead_artist then entries.track_id end) as tracks_charted_as_lead,
        min(entries.chart_date) as first_charted_date,
        max(entries.chart_date) as last_charted_date,
        min(entries.position) as peak_position
    from entries
    inner join credits
        on credits.track_id = entries.track_id
    group by entries.chart_id, credits.artist_id
),

artist_runs as (
    select
        runs.chart_id,
        credits.artist_id,
        count(*) as chart_runs,
        max(runs.days_on_chart) as longest_run_days
    from runs
    inner join credits
        on credits.track_id = runs.track_id
    group by runs.chart_id, credits.artist_id
)

select
    entry_days.chart_id,
    entry_days.artist_id,
    current_artists.artist_name,
    cast(entry_days.tracks_charted as {{ dbt.type_int() }}) as tracks_charted,
    cast(entry_days.tracks_charted_as_lead as {{ dbt.type_int() }}) as tracks_charted_as_lead,
    cast(artist_runs.chart_runs as {{ dbt.type_int() }}) as chart_runs,
    cast(artist_runs.longest_run_days as {{ dbt.type_int() }}) as longest_track_run_days,
    -- days with at least one of their tracks on the chart
    cast(entry_days.days_on_chart as {{ dbt.type_int() }}) as days_on_chart,
    -- one per track per day: two of their tracks on a day count twice
    cast(entry_days.track_days_on_chart as {{ dbt.type_int() }}) as track_days_on_chart,
    entry_days.first_charted_date,
    entry_days.last_charted_date,
    entry_days.peak_position,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from entry_days
inner join artist_runs
    on artist_runs.chart_id = entry_days.chart_id
    and artist_runs.artist_id = entry_days.artist_id
inner join current_artists
    on current_artists.artist_id = entry_days.artist_id
