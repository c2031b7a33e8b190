-- One row per track on a chart on a day (grain: chart_id, chart_date, track_id).
--
-- delete+insert on (chart_id, chart_date): every chart and day present in the stage is deleted
-- from the fact and inserted again from the stage, whole. Re-running or replaying a day therefore
-- replaces it exactly (a track that left the re-run day's chart leaves the fact), and days that
-- are not in the stage are never touched. No is_incremental() filter is needed: the stage only
-- ever holds the runs being transformed now.

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
),

song_attributes as (
    select * from {{ ref('stg_stage__song_attributes') }}
),

chart_entries as (
    select
        {{ dbt.hash(dbt.concat([
            'chart_songs.chart_id',
            "'|'",
            'cast(chart_songs.chart_date as ' ~ dbt.type_string() ~ ')',
            "'|'",
            'chart_songs.track_id',
        ])) }} as chart_entry_id,
        chart_songs.chart_id,
        chart_songs.chart_date,
        chart_songs.track_id,
        chart_songs.position,
        chart_songs.streams,
        -- that day's popularity: null when it could not be looked up
        song_attributes.popularity,
        chart_songs.run_id,
        {{ audit_loaded_at() }} as loaded_at
    from chart_songs
    left join song_attributes
        on song_attributes.chart_id = chart_songs.chart_id
        and song_attributes.chart_date = chart_songs.chart_date
        and song_attributes.track_id = chart_songs.track_id
)

select * from chart_entries
