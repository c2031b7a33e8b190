-- One row per album of a track ever seen (grain: album_id), with its latest known attributes.
--
-- delete+insert on album_id, merged like dim_tracks: each album in the stage is rebuilt from its
-- current row (if any) plus the stage's lookups of its tracks. The attributes come whole from the
-- latest day whose lookup gave them (metadata_as_of_date), so replaying an older day never
-- overwrites newer ones; on the same day, the stage wins over the current row.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='album_id',
    )
}}

{%- set album_columns = ['album_name', 'album_type', 'release_date', 'release_date_precision', 'metadata_source'] -%}

with

song_attributes as (
    select * from {{ ref('stg_stage__song_attributes') }}
    where album_id is not null
),

incoming as (
    select
        album_id,
        {%- for column in album_columns %}
        {{ column }},
        {%- endfor %}
        chart_date as metadata_as_of_date,
        chart_date as first_seen_date,
        chart_date as last_seen_date,
        run_id,
        1 as is_incoming,
        extracted_at,
        chart_id,
        track_id
    from song_attributes
),

observations as (
    select * from incoming

    {% if is_incremental() %}
    union all

    select
        album_id,
        {%- for column in album_columns %}
        {{ column }},
        {%- endfor %}
        metadata_as_of_date,
        first_seen_date,
        last_seen_date,
        run_id,
        0 as is_incoming,
        cast(null as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(null as {{ type_text() }}) as chart_id,
        cast(null as {{ type_text() }}) as track_id
    from {{ this }}
    where album_id in (select album_id from incoming)
    {% endif %}
),

ranked as (
    select
        observations.*,
        row_number() over (
            partition by album_id
            order by metadata_as_of_date desc, is_incoming desc, extracted_at desc, chart_id, track_id
        ) as metadata_rank
    from observations
),

seen as (
    select
        album_id,
        min(first_seen_date) as first_seen_date,
        max(last_seen_date) as last_seen_date
    from observations
    group by album_id
),

albums as (
    select
        seen.album_id,
        {%- for column in album_columns %}
        latest.{{ column }},
        {%- endfor %}
        -- the release as a date: the first day of its year or month when that is all that is known
        {{ release_date_to_date('latest.release_date', 'latest.release_date_precision') }} as released_on,
        latest.metadata_as_of_date,
        seen.first_seen_date,
        seen.last_seen_date,
        latest.run_id,
        {{ audit_loaded_at() }} as loaded_at
    from seen
    inner join ranked as latest
        on latest.album_id = seen.album_id and latest.metadata_rank = 1
)

select * from albums
