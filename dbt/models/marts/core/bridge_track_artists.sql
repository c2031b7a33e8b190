-- Which artists a track credits, in the track's order (grain: track_id, artist_position; position 1
-- is the lead artist). Join through it from a fact's track_id to dim_artists' artist_id.
--
-- delete+insert on track_id: a track's credits are replaced as a whole by those of the latest day
-- whose lookup gave them (credits_as_of_date), from its current rows plus the stage's; replaying an
-- older day never brings older credits back, and a failed lookup (no credits) changes nothing.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='track_id',
    )
}}

with

song_artists as (
    select * from {{ ref('int_song_artists') }}
),

-- One set of credits per track, chart and day looked up.
incoming as (
    select
        track_id,
        artist_position,
        artist_id,
        chart_date as credits_as_of_date,
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

    select
        track_id,
        artist_position,
        artist_id,
        credits_as_of_date,
        run_id,
        0 as is_incoming,
        cast(null as {{ dbt.type_timestamp() }}) as extracted_at,
        cast(null as {{ type_text() }}) as chart_id
    from {{ this }}
    where track_id in (select track_id from incoming)
    {% endif %}
),

-- The observation whose credits win: a provider's over a chart's (int_song_artists: the artists a
-- Spotify Charts CSV names, ids 'charts_csv:…'), then the latest day, then the stage, then the
-- latest extraction.
lookups as (
    select
        track_id,
        credits_as_of_date,
        is_incoming,
        chart_id,
        max(extracted_at) as extracted_at,
        max(case when left(artist_id, 11) = 'charts_csv:' then 0 else 1 end) as from_provider
    from observations
    group by track_id, credits_as_of_date, is_incoming, chart_id
),

winning as (
    select
        lookups.*,
        row_number() over (
            partition by track_id
            order by from_provider desc, credits_as_of_date desc, is_incoming desc, extracted_at desc, chart_id
        ) as lookup_rank
    from lookups
),

credits as (
    select
        observations.track_id,
        observations.artist_position,
        observations.artist_id,
        observations.artist_position = 1 as is_lead_artist,
        observations.credits_as_of_date,
        observations.run_id,
        {{ audit_loaded_at() }} as loaded_at
    from observations
    inner join winning
        on winning.track_id = observations.track_id
        and winning.lookup_rank = 1
        and winning.credits_as_of_date = observations.credits_as_of_date
        and winning.is_incoming = observations.is_incoming
        and (winning.chart_id = observations.chart_id or (winning.chart_id is null and observations.chart_id is null))
)

select
    {{ surrogate_key(['track_id', 'artist_position']) }} as track_artist_id,
    credits.*
from credits
