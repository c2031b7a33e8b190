-- One row per chart entry of a day and chart (grain: chart_id, chart_date, track_id).
--
-- A day is replaced whole, never merged: when the stage holds the same chart and day from two runs
-- (a replay loaded before the earlier run was transformed), only the latest run's chart is kept,
-- so a track that left the chart in the latest run is absent here too.

with

source as (
    select * from {{ source('stage', 'chart_songs') }}
),

renamed as (
    select
        cast(source.chart_id as {{ type_text() }}) as chart_id,
        cast(source.chart_date as date) as chart_date,
        cast(source.run_id as {{ type_text() }}) as run_id,
        cast(source.extracted_at as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(source.position as {{ dbt.type_int() }}) as position,
        cast(source.track_id as {{ type_text() }}) as track_id,
        cast(source.track_name as {{ type_text() }}) as track_name,
        cast(source.artist_names as {{ type_text() }}) as artist_names,
        cast(source.streams as {{ dbt.type_bigint() }}) as streams,
        cast(source.source as {{ type_text() }}) as chart_source
    from source
),

-- Runs are ordered by when they extracted their chart.
runs_timed as (
    select
        renamed.*,
        max(extracted_at) over (partition by chart_id, chart_date, run_id) as run_extracted_at
    from renamed
),

ranked as (
    select
        runs_timed.*,
        dense_rank() over (
            partition by chart_id, chart_date
            order by run_extracted_at desc, run_id desc
        ) as run_rank,
        -- A playlist may list a track twice; its best position is its entry.
        row_number() over (
            partition by chart_id, chart_date, run_id, track_id
            order by position, extracted_at desc
        ) as track_rank
    from runs_timed
)

select
    chart_id,
    chart_date,
    run_id,
    extracted_at,
    position,
    track_id,
    track_name,
    artist_names,
    streams,
    chart_source
from ranked
where run_rank = 1
  and track_rank = 1
