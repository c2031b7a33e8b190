-- How new releases fare, week by week (grain: chart_id, iso_year, iso_week, track_id): every track
-- that was on the chart during an ISO week within `new_release_days` (28) days of its album's
-- release, ranked within the week (week_rank 1 is the week's top new release: best position, then
-- average position, then more days on the chart that week).

{%- set new_release_days = var('new_release_days') | int %}

with

entries as (
    select * from {{ ref('fct_chart_entries') }}
),

tracks as (
    select * from {{ ref('dim_tracks') }}
),

albums as (
    select * from {{ ref('dim_albums') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

lead_artists as (
    select * from {{ ref('int_tracks_lead_artists') }}
),

new_release_entries as (
    select
        entries.chart_id,
        calendar.iso_year,
        calendar.iso_week,
        calendar.iso_week_start_date,
        entries.track_id,
        albums.released_on,
        entries.chart_date,
        entries.position,
        entries.streams,
        entries.is_new_entry
    from entries
    inner join tracks
        on tracks.track_id = entries.track_id
    inner join albums
        on albums.album_id = tracks.album_id
    inner join calendar
        on calendar.date_day = entries.chart_date
    where albums.released_on is not null
      and entries.chart_date >= albums.released_on
      and {{ dbt.datediff('albums.released_on', 'entries.chart_date', 'day') }} < {{ new_release_days }}
),

weekly as (
    select
        chart_id,
        iso_year,
        iso_week,
        iso_week_start_date,
        track_id,
        released_on,
        min(chart_date) as first_day_in_week,
        count(*) as days_on_chart_in_week,
        min(position) as best_position,
        {{ round_double('avg(cast(position as ' ~ type_double() ~ '))', 3) }} as average_position,
        sum(streams) as streams_in_week,
        max(case when is_new_entry then 1 else 0 end) as debuted_in_week
    from new_release_entries
    group by chart_id, iso_year, iso_week, iso_week_start_date, track_id, released_on
)

select
    weekly.chart_id,
    weekly.iso_year,
    weekly.iso_week,
    weekly.iso_week_start_date,
    cast(row_number() over (
        partition by weekly.chart_id, weekly.iso_year, weekly.iso_week
        order by weekly.best_position, weekly.average_position, weekly.days_on_chart_in_week desc, weekly.track_id
    ) as {{ dbt.type_int() }}) as week_rank,
    weekly.track_id,
    tracks.track_name,
    lead_artists.lead_artist_name,
    weekly.released_on,
    cast({{ dbt.datediff('weekly.released_on', 'weekly.first_day_in_week', 'day') }} as {{ dbt.type_int() }})
        as days_since_release,
    weekly.debuted_in_week = 1 as debuted_in_week,
    cast(weekly.days_on_chart_in_week as {{ dbt.type_int() }}) as days_on_chart_in_week,
    weekly.best_position,
    weekly.average_position,
    weekly.streams_in_week,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from weekly
inner join tracks
    on tracks.track_id = weekly.track_id
left join lead_artists
    on lead_artists.track_id = weekly.track_id
