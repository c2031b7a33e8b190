-- The name each artist went by on each day the stage saw them credited (grain: artist_id,
-- chart_date): the observations the artist-name snapshot keeps for good.
--
-- When one day's credits spell an artist two ways (two charts, or two runs of a day), the latest
-- extracted spelling wins, then the first chart id, so the result does not depend on row order.

with

song_artists as (
    select * from {{ ref('int_song_artists') }}
),

ranked as (
    select
        artist_id,
        chart_date,
        artist_name,
        run_id,
        row_number() over (
            partition by artist_id, chart_date
            order by extracted_at desc, chart_id, run_id desc, artist_name
        ) as spelling_rank
    from song_artists
)

select
    {{ dbt.concat(['artist_id', "'|'", 'cast(chart_date as ' ~ dbt.type_string() ~ ')']) }} as artist_day_id,
    artist_id,
    chart_date,
    artist_name,
    run_id
from ranked
where spelling_rank = 1
