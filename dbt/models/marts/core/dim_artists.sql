-- Artists, type 2 (grain: artist_id, valid_from): a new row each time an artist is seen under
-- another name, the history kept. valid_from is the first chart day the name was seen, valid_to
-- the first day of the next name (exclusive; null for the current one), so on any day D exactly
-- one row of an artist has valid_from <= D < coalesce(valid_to, D + 1).
--
-- Built from the snapshot snap_artist_names (every artist's name on every day seen, kept for
-- good), ordered by chart date: the versions do not depend on the order days arrive in, nor on
-- whether they come one by one or in one batch. A name that comes back after another starts a new
-- version again. Rebuilt whole by every run (a table): the snapshot is the history.

{{ config(materialized='table') }}

with

observed as (
    select artist_id, chart_date, artist_name, run_id
    from {{ ref('snap_artist_names') }}
    where dbt_valid_to is null
),

changes as (
    select
        observed.*,
        lag(artist_name) over (partition by artist_id order by chart_date) as previous_name
    from observed
),

-- Days that start a version: the first day seen, and every day the name differs from the day before.
starts as (
    select artist_id, chart_date as valid_from, artist_name
    from changes
    -- The lengths too: Redshift compares varchar ignoring trailing blanks, so 'X' = 'X ' there.
    where previous_name is null
       or previous_name <> artist_name
       or {{ dbt.length('previous_name') }} <> {{ dbt.length('artist_name') }}
),

bounded as (
    select
        starts.*,
        lead(valid_from) over (partition by artist_id order by valid_from) as valid_to
    from starts
),

-- The days each version covers: its last day seen, and the run that extracted that day.
version_days as (
    select
        bounded.artist_id,
        bounded.valid_from,
        observed.chart_date,
        observed.run_id,
        row_number() over (
            partition by bounded.artist_id, bounded.valid_from
            order by observed.chart_date desc
        ) as recency
    from bounded
    inner join observed
        on observed.artist_id = bounded.artist_id
        and observed.chart_date >= bounded.valid_from
        and (bounded.valid_to is null or observed.chart_date < bounded.valid_to)
)

select
    {{ surrogate_key(['bounded.artist_id', 'bounded.valid_from']) }} as artist_version_id,
    bounded.artist_id,
    bounded.artist_name,
    bounded.valid_from,
    bounded.valid_to,
    bounded.valid_to is null as is_current,
    last_seen.chart_date as last_seen_date,
    last_seen.run_id,
    {{ audit_loaded_at() }} as loaded_at
from bounded
inner join version_days as last_seen
    on last_seen.artist_id = bounded.artist_id
    and last_seen.valid_from = bounded.valid_from
    and last_seen.recency = 1
