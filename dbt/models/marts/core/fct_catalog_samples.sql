-- One row per track in a catalog sample on a day (grain: chart_id, chart_date, track_id): the
-- non-charting catalog the charts are compared with (see macros/catalog_samples.sql). The sample's
-- chart_id is its id, e.g. `catalog-sample`.
--
-- delete+insert on (chart_id, chart_date), like fct_chart_entries: a staged day replaces that
-- sample's day whole, and nothing else.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chart_id', 'chart_date'],
    )
}}

with

chart_songs as (
    select * from {{ ref('stg_stage__chart_songs') }}
    where {{ is_catalog_sample('chart_id') }}
),

song_attributes as (
    select * from {{ ref('stg_stage__song_attributes') }}
)

select
    {{ surrogate_key(['chart_songs.chart_id', 'chart_songs.chart_date', 'chart_songs.track_id']) }}
        as catalog_sample_entry_id,
    chart_songs.chart_id,
    chart_songs.chart_date,
    chart_songs.track_id,
    -- the track's place in the sample's playlist, which means nothing more than that
    chart_songs.position as sample_position,
    song_attributes.popularity,
    chart_songs.run_id,
    {{ audit_loaded_at() }} as loaded_at
from chart_songs
left join song_attributes
    on song_attributes.chart_id = chart_songs.chart_id
    and song_attributes.chart_date = chart_songs.chart_date
    and song_attributes.track_id = chart_songs.track_id
