-- One row per track ever seen on a chart (grain: track_id).
--
-- delete+insert on track_id: each track in the stage is rebuilt from everything known about it,
-- that is its current row (if any) plus the stage's observations of it, so the result does not
-- depend on the order in which days arrive:
--   * the track name, and run_id, are those of the latest day seen;
--   * metadata (album, release date, duration, explicit, isrc) and audio features are each taken
--     whole from the latest observation that has them (metadata_as_of_date and
--     features_as_of_date keep which day that was), so replaying an older day never overwrites
--     newer attributes, and a lookup that failed (null attributes) never wipes known ones;
--   * first_seen_date is the earliest day seen, last_seen_date the latest.
-- On the same day, the stage wins over the current row (it is the newer load of that day).
-- Replaying a day thus rewrites the same values (only loaded_at moves), and tracks that are not
-- in the stage are not touched.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='track_id',
    )
}}

{#- A group counts as present when any of its values is; its *_source travels with it. -#}
{%- set metadata_columns = [
    'album_id', 'album_name', 'album_type', 'release_date', 'release_date_precision',
    'duration_ms', 'is_explicit', 'isrc',
] -%}
{%- set feature_columns = [
    'danceability', 'energy', 'speechiness', 'acousticness', 'instrumentalness', 'liveness',
    'valence', 'loudness', 'tempo', 'musical_key', 'mode', 'time_signature',
] -%}
{%- set attribute_columns = metadata_columns + ['metadata_source', 'metadata_as_of_date']
    + feature_columns + ['features_source', 'features_as_of_date'] -%}

with

chart_songs as (
    select * from {{ ref('stg_stage__chart_songs') }}
),

song_attributes as (
    select * from {{ ref('stg_stage__song_attributes') }}
),

-- What the stage says about each track: one observation per chart and day it was on.
incoming as (
    select
        chart_songs.track_id,
        -- the metadata provider's spelling when the lookup worked, the chart's otherwise
        coalesce(song_attributes.track_name, chart_songs.track_name) as track_name,
        {%- for column in metadata_columns %}
        song_attributes.{{ column }},
        {%- endfor %}
        -- A track no provider knows has only what its chart says of it (its name, its artists).
        coalesce(
            song_attributes.metadata_source,
            case when song_attributes.enrichment_status = 'not_found' then 'charts_csv' end
        ) as metadata_source,
        case
            when {% for column in metadata_columns -%}
                song_attributes.{{ column }} is not null{% if not loop.last %} or {% endif %}
            {%- endfor %}
            then chart_songs.chart_date
        end as metadata_as_of_date,
        {%- for column in feature_columns %}
        song_attributes.{{ column }},
        {%- endfor %}
        song_attributes.features_source,
        case
            when {% for column in feature_columns -%}
                song_attributes.{{ column }} is not null{% if not loop.last %} or {% endif %}
            {%- endfor %}
            then chart_songs.chart_date
        end as features_as_of_date,
        chart_songs.chart_date as first_seen_date,
        chart_songs.chart_date as last_seen_date,
        chart_songs.run_id,
        1 as is_incoming,
        chart_songs.extracted_at,
        chart_songs.chart_id
    from chart_songs
    left join song_attributes
        on song_attributes.chart_id = chart_songs.chart_id
        and song_attributes.chart_date = chart_songs.chart_date
        and song_attributes.track_id = chart_songs.track_id
),

observations as (
    select * from incoming

    {% if is_incremental() %}
    union all

    -- What is already known about those tracks, as one more observation: its name dates from
    -- last_seen_date, its metadata and features from their own as-of dates.
    select
        track_id,
        track_name,
        {%- for column in attribute_columns %}
        {{ column }},
        {%- endfor %}
        first_seen_date,
        last_seen_date,
        run_id,
        0 as is_incoming,
        cast(null as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(null as {{ type_text() }}) as chart_id
    from {{ this }}
    where track_id in (select track_id from incoming)
    {% endif %}
),

ranked as (
    select
        observations.*,
        row_number() over (
            partition by track_id
            order by last_seen_date desc, is_incoming desc, extracted_at desc, chart_id
        ) as name_rank,
        row_number() over (
            partition by track_id
            order by metadata_as_of_date desc nulls last, is_incoming desc, extracted_at desc, chart_id
        ) as metadata_rank,
        row_number() over (
            partition by track_id
            order by features_as_of_date desc nulls last, is_incoming desc, extracted_at desc, chart_id
        ) as features_rank
    from observations
),

seen as (
    select
        track_id,
        min(first_seen_date) as first_seen_date,
        max(last_seen_date) as last_seen_date
    from observations
    group by track_id
),

tracks as (
    select
        seen.track_id,
        named.track_name,
        {%- for column in metadata_columns %}
        metadata.{{ column }},
        {%- endfor %}
        metadata.metadata_source,
        metadata.metadata_as_of_date,
        {%- for column in feature_columns %}
        features.{{ column }},
        {%- endfor %}
        features.features_source,
        features.features_as_of_date,
        seen.first_seen_date,
        seen.last_seen_date,
        named.run_id,
        {{ audit_loaded_at() }} as loaded_at
    from seen
    inner join ranked as named
        on named.track_id = seen.track_id and named.name_rank = 1
    inner join ranked as metadata
        on metadata.track_id = seen.track_id and metadata.metadata_rank = 1
    inner join ranked as features
        on features.track_id = seen.track_id and features.features_rank = 1
)

select * from tracks
