-- Each track's lead artist (artist_position 1) under the name they go by now (grain: track_id),
-- for the analysis marts. Tracks whose credits are unknown have no row.

{{ config(materialized='ephemeral') }}

select
    bridge.track_id,
    bridge.artist_id as lead_artist_id,
    artists.artist_name as lead_artist_name
from {{ ref('bridge_track_artists') }} as bridge
inner join {{ ref('dim_artists') }} as artists
    on artists.artist_id = bridge.artist_id
    and artists.is_current
where bridge.is_lead_artist
