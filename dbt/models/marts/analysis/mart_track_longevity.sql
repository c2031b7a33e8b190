-- How long each track stays on each chart (grain: chart_id, track_id): its runs, days, peak and
-- longest run, with its name and lead artist as they are now.

with

runs as (
    select * from {{ ref('fct_chart_runs') }}
),

tracks as (
    select * from {{ ref('dim_tracks') }}
),

lead_artists as (
    select * from {{ ref('int_tracks_lead_artists') }}
),

per_track as (
    select
        chart_id,
        track_id,
        count(*) as chart_runs,
        sum(days_on_chart) as total_days_on_chart,
        max(days_on_chart) as longest_run_days,
        min(run_started_date) as first_charted_date,
        max(run_last_date) as last_charted_date,
        min(peak_position) as peak_position,
        sum(days_in_top_10) as days_in_top_10,
        sum(streams) as streams,
        max(case when is_ongoing then 1 else 0 end) as is_charting
    from runs
    group by chart_id, track_id
)

select
    per_track.chart_id,
    per_track.track_id,
    tracks.track_name,
    lead_artists.lead_artist_id,
    lead_artists.lead_artist_name,
    cast(per_track.chart_runs as {{ dbt.type_int() }}) as chart_runs,
    cast(per_track.total_days_on_chart as {{ dbt.type_int() }}) as total_days_on_chart,
    cast(per_track.longest_run_days as {{ dbt.type_int() }}) as longest_run_days,
    per_track.first_charted_date,
    per_track.last_charted_date,
    per_track.peak_position,
    cast(per_track.days_in_top_10 as {{ dbt.type_int() }}) as days_in_top_10,
    per_track.streams,
    per_track.is_charting = 1 as is_charting,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from per_track
inner join tracks
    on tracks.track_id = per_track.track_id
left join lead_artists
    on lead_artists.track_id = per_track.track_id
