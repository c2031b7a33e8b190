-- One row per track looked up for a day and chart (grain: chart_id, chart_date, track_id).
--
-- A redelivered SQS message adds a second row for the same track, day and chart: the latest
-- extracted one wins. Attributes stay null where the track could not be enriched (missing_reason
-- says why); nothing here fills them in.

with

source as (
    select * from {{ source('stage', 'song_attributes') }}
),

renamed as (
    select
        cast(chart_id as {{ type_text() }}) as chart_id,
        cast(chart_date as date) as chart_date,
        cast(run_id as {{ type_text() }}) as run_id,
        cast(extracted_at as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(track_id as {{ type_text() }}) as track_id,
        cast(enrichment_status as {{ type_text() }}) as enrichment_status,
        cast(missing_reason as {{ type_text() }}) as missing_reason,

        -- metadata
        cast(track_name as {{ type_text() }}) as track_name,
        cast(album_id as {{ type_text() }}) as album_id,
        cast(album_name as {{ type_text() }}) as album_name,
        cast(album_type as {{ type_text() }}) as album_type,
        cast(release_date as {{ type_text() }}) as release_date,
        cast(release_date_precision as {{ type_text() }}) as release_date_precision,
        cast(duration_ms as {{ dbt.type_int() }}) as duration_ms,
        cast(is_explicit as {{ dbt.type_boolean() }}) as is_explicit,
        cast(isrc as {{ type_text() }}) as isrc,

        -- popularity, which changes daily
        cast(popularity as {{ dbt.type_int() }}) as popularity,

        -- audio features
        cast(danceability as {{ type_double() }}) as danceability,
        cast(energy as {{ type_double() }}) as energy,
        cast(speechiness as {{ type_double() }}) as speechiness,
        cast(acousticness as {{ type_double() }}) as acousticness,
        cast(instrumentalness as {{ type_double() }}) as instrumentalness,
        cast(liveness as {{ type_double() }}) as liveness,
        cast(valence as {{ type_double() }}) as valence,
        cast(loudness as {{ type_double() }}) as loudness,
        cast(tempo as {{ type_double() }}) as tempo,
        cast(musical_key as {{ dbt.type_int() }}) as musical_key,
        cast(mode as {{ dbt.type_int() }}) as mode,
        cast(time_signature as {{ dbt.type_int() }}) as time_signature,

        -- provenance
        cast(metadata_source as {{ type_text() }}) as metadata_source,
        cast(popularity_source as {{ type_text() }}) as popularity_source,
        cast(features_source as {{ type_text() }}) as features_source
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by chart_id, chart_date, track_id
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
    enrichment_status,
    missing_reason,
    track_name,
    album_id,
    album_name,
    album_type,
    release_date,
    release_date_precision,
    duration_ms,
    is_explicit,
    isrc,
    popularity,
    danceability,
    energy,
    speechiness,
    acousticness,
    instrumentalness,
    liveness,
    valence,
    loudness,
    tempo,
    musical_key,
    mode,
    time_signature,
    metadata_source,
    popularity_source,
    features_source
from ranked
where delivery_rank = 1
