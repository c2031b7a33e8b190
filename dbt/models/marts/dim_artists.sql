-- One row per artist ever credited on a charting track (grain: artist_id). Type 1 for now: the
-- name, and run_id, are those of the latest day the artist was seen (an SCD2 history comes later).
--
-- delete+insert on artist_id: each artist in the stage is rebuilt from its current row (if any)
-- plus the stage's credits of it, so replaying an older day never brings back an older name. On
-- the same day, the stage wins over the current row (it is the newer load of that day). Replaying
-- a day thus rewrites the same values (only loaded_at moves), and artists that are not in the
-- stage are not touched.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='artist_id',
    )
}}

with

song_artists as (
    select * from {{ ref('stg_stage__song_artists') }}
),

-- What the stage says about each artist: one observation per credit on a chart and day.
incoming as (
    select
        artist_id,
        artist_name,
        chart_date as first_seen_date,
        chart_date as last_seen_date,
        run_id,
        1 as is_incoming,
        extracted_at,
        chart_id
    from song_artists
),

observations as (
    select * from incoming

    {% if is_incremental() %}
    union all

    -- What is already known about those artists, as one more observation dated last_seen_date.
    select
        artist_id,
        artist_name,
        first_seen_date,
        last_seen_date,
        run_id,
        0 as is_incoming,
        cast(null as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(null as {{ type_text() }}) as chart_id
    from {{ this }}
    where artist_id in (select artist_id from incoming)
    {% endif %}
),

ranked as (
    select
        observations.*,
        row_number() over (
            partition by artist_id
            order by last_seen_date desc, is_incoming desc, extracted_at desc, chart_id, artist_name
        ) as name_rank
    from observations
),

seen as (
    select
        artist_id,
        min(first_seen_date) as first_seen_date,
        max(last_seen_date) as last_seen_date
    from observations
    group by artist_id
),

artists as (
    select
        seen.artist_id,
        named.artist_name,
        seen.first_seen_date,
        seen.last_seen_date,
        named.run_id,
        {{ audit_loaded_at() }} as loaded_at
    from seen
    inner join ranked as named
        on named.artist_id = seen.artist_id and named.name_rank = 1
)

select * from artists
