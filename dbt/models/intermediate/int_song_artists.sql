-- Every artist credit of the stage (grain: chart_id, chart_date, track_id, artist_position): the
-- providers' credits, and for a track of a Spotify Charts CSV that no provider knows (its lookup
-- said not_found) the one credit its chart names. A Spotify Charts CSV names a track's artists as one text
-- ("Ryan Castro, Kapo, Gangsta"); it is kept whole, as one credit, since a name may hold a comma
-- itself ("Tyler, The Creator"). Such an artist has no Spotify id: its id is made from the
-- name ('charts_csv:' and its md5), so the same text is the same artist on every day.
--
-- A provider's credits, whatever their day, win over such a credit in bridge_track_artists. dim_tracks says where such a track's names came from: metadata_source 'charts_csv'.

with

song_artists as (
    select * from {{ ref('stg_stage__song_artists') }}
),

chart_songs as (
    select * from {{ ref('stg_stage__chart_songs') }}
),

song_attributes as (
    select * from {{ ref('stg_stage__song_attributes') }}
),

chart_credits as (
    select
        chart_songs.chart_id,
        chart_songs.chart_date,
        chart_songs.run_id,
        chart_songs.extracted_at,
        chart_songs.track_id,
        1 as artist_position,
        {{ dbt.concat(["'charts_csv:'", 'md5(chart_songs.artist_names)']) }} as artist_id,
        chart_songs.artist_names as artist_name
    from chart_songs
    inner join song_attributes
        on song_attributes.chart_id = chart_songs.chart_id
        and song_attributes.chart_date = chart_songs.chart_date
        and song_attributes.track_id = chart_songs.track_id
        and song_attributes.enrichment_status = 'not_found'
    where chart_songs.chart_source like 'spotify-charts-csv:%'
        and {{ dbt.length('chart_songs.artist_names') }} > 0
        and not exists (
            select 1
            from song_artists
            where song_artists.chart_id = chart_songs.chart_id
                and song_artists.chart_date = chart_songs.chart_date
                and song_artists.track_id = chart_songs.track_id
        )
)

select chart_id, chart_date, run_id, extracted_at, track_id, artist_position, artist_id, artist_name
from song_artists

union all

select chart_id, chart_date, run_id, extracted_at, track_id, artist_position, artist_id, artist_name
from chart_credits
