-- One row per artist credit of a track looked up for a day and chart
-- (grain: chart_id, chart_date, track_id, artist_position).
--
-- A redelivered SQS message repeats a track's artists: the latest extracted row of each credit wins.

with

source as (
    select * from {{ source('stage', 'song_artists') }}
),

renamed as (
    select
        cast(chart_id as {{ type_text() }}) as chart_id,
        cast(chart_date as date) as chart_date,
        cast(run_id as {{ type_text() }}) as run_id,
        cast(extracted_at as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(track_id as {{ type_text() }}) as track_id,
        cast(artist_position as {{ dbt.type_int() }}) as artist_position,
        cast(artist_id as {{ type_text() }}) as artist_id,
        cast(artist_name as {{ type_text() }}) as artist_name
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by chart_id, chart_date, track_id, artist_position
            order by extracted_at desc, run_id desc
        ) as delivery_rank
    from renamed
)

select
    chart_id,
    chart_date,
    run_id,
    extracted_at,
    track_id,
    artist_position,
    artist_id,
    artist_name
from ranked
where delivery_rank = 1
