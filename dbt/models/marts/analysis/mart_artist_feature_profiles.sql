-- The sound of each charting artist (grain: artist_id): the average audio features of the distinct
-- tracks that credit them and have charted (on any chart; catalog samples do not count), each
-- track once, under the name they go by now.

with

charted_tracks as (
    select
        track_id,
        count(*) as chart_days,
        min(position) as peak_position
    from {{ ref('fct_chart_entries') }}
    group by track_id
),

credits as (
    select * from {{ ref('bridge_track_artists') }}
),

tracks as (
    select * from {{ ref('dim_tracks') }}
),

current_artists as (
    select artist_id, artist_name
    from {{ ref('dim_artists') }}
    where is_current
),

artist_tracks as (
    select
        credits.artist_id,
        credits.is_lead_artist,
        charted_tracks.chart_days,
        charted_tracks.peak_position,
        tracks.*
    from credits
    inner join charted_tracks
        on charted_tracks.track_id = credits.track_id
    inner join tracks
        on tracks.track_id = credits.track_id
)

select
    artist_tracks.artist_id,
    current_artists.artist_name,
    cast(count(*) as {{ dbt.type_int() }}) as tracks_charted,
    cast(sum(case when artist_tracks.is_lead_artist then 1 else 0 end) as {{ dbt.type_int() }}) as tracks_charted_as_lead,
    cast(count(artist_tracks.features_as_of_date) as {{ dbt.type_int() }}) as tracks_with_features,
    cast(sum(artist_tracks.chart_days) as {{ dbt.type_int() }}) as track_days_on_charts,
    min(artist_tracks.peak_position) as peak_position,
    {%- for feature in audio_features() %}
    {{ round_double('avg(artist_tracks.' ~ feature ~ ')') }} as avg_{{ feature }},
    {%- endfor %}
    {{ round_double('avg(cast(artist_tracks.duration_ms as ' ~ type_double() ~ '))', 1) }} as avg_duration_ms,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from artist_tracks
inner join current_artists
    on current_artists.artist_id = artist_tracks.artist_id
group by artist_tracks.artist_id, current_artists.artist_name
