-- One row per track on a chart on a day (grain: chart_id, chart_date, track_id), with where the
-- entry stands in the track's chart runs.
--
-- Chart runs (the seed rule): a track stays in the same run while it appears on the chart at least
-- every `chart_run_max_gap_days` (2) days. After a longer gap it re-enters, and a new run starts.
-- Every run column of an entry depends only on that day and the days before it.
--
-- delete+insert on (chart_id, chart_date): every chart and day in the stage replaces its rows whole
-- (a track that left a re-run day's chart leaves the fact; keying on the whole grain would keep it).
-- Days already in the fact after the earliest staged day of a chart are recomputed too, because
-- their run columns may depend on the staged days (a day backfilled before them, or a replay that
-- changed a day); a later day is written again only when one of its rows actually changes. So
-- re-running or replaying a day rewrites that day and nothing else, unless its content changed;
-- and N days staged at once give exactly what N daily runs give.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chart_id', 'chart_date'],
    )
}}

{%- set max_gap = var('chart_run_max_gap_days') | int -%}
{#- The columns that depend on earlier days; a kept day is rewritten when one of them changes. -#}
{%- set run_columns = [
    'previous_position', 'positions_moved', 'is_new_entry', 'is_re_entry', 'first_charted_date',
    'last_charted_date', 'days_on_chart', 'total_days_on_chart', 'chart_run_number',
] -%}

with

chart_songs as (
    select * from {{ ref('stg_stage__chart_songs') }}
    where not {{ is_catalog_sample('chart_id') }}
),

song_attributes as (
    select * from {{ ref('stg_stage__song_attributes') }}
),

staged as (
    select
        chart_songs.chart_id,
        chart_songs.chart_date,
        chart_songs.track_id,
        chart_songs.position,
        chart_songs.streams,
        -- that day's popularity: null when it could not be looked up
        song_attributes.popularity,
        chart_songs.run_id,
        1 as is_staged
    from chart_songs
    left join song_attributes
        on song_attributes.chart_id = chart_songs.chart_id
        and song_attributes.chart_date = chart_songs.chart_date
        and song_attributes.track_id = chart_songs.track_id
),

{% if is_incremental() %}

-- The earliest staged day of each chart: from that day on, the chart's run columns are recomputed.
recompute_from as (
    select chart_id, min(chart_date) as from_date
    from staged
    group by chart_id
),

-- Later days already in the fact that the stage does not replace.
kept as (
    select
        existing.chart_id,
        existing.chart_date,
        existing.track_id,
        existing.position,
        existing.streams,
        existing.popularity,
        existing.run_id,
        0 as is_staged
    from {{ this }} as existing
    inner join recompute_from
        on recompute_from.chart_id = existing.chart_id
        and existing.chart_date >= recompute_from.from_date
    where not exists (
        select 1
        from staged
        where staged.chart_id = existing.chart_id
          and staged.chart_date = existing.chart_date
    )
),

-- Each track's standing on its last day on the chart before the recomputed days.
prior_ranked as (
    select
        existing.chart_id,
        existing.track_id,
        existing.chart_date,
        existing.position,
        existing.chart_run_number,
        existing.first_charted_date,
        existing.days_on_chart,
        existing.total_days_on_chart,
        row_number() over (
            partition by existing.chart_id, existing.track_id
            order by existing.chart_date desc
        ) as recency
    from {{ this }} as existing
    inner join recompute_from
        on recompute_from.chart_id = existing.chart_id
        and existing.chart_date < recompute_from.from_date
),

prior_state as (
    select
        chart_id,
        track_id,
        chart_date as last_date,
        position as last_position,
        chart_run_number as last_run_number,
        first_charted_date as last_run_started_date,
        days_on_chart as last_run_days,
        total_days_on_chart as last_total_days
    from prior_ranked
    where recency = 1
),

{% endif %}

entries as (
    select * from staged
    {% if is_incremental() %}
    union all
    select * from kept
    {% endif %}
),

sequenced as (
    select
        entries.*,
        lag(chart_date) over (partition by chart_id, track_id order by chart_date) as previous_date_here,
        lag(position) over (partition by chart_id, track_id order by chart_date) as previous_position_here,
        row_number() over (partition by chart_id, track_id order by chart_date) as day_number_here
    from entries
),

with_prior as (
    select
        sequenced.*,
        {% if is_incremental() %}
        prior_state.last_date as prior_date,
        prior_state.last_position as prior_position,
        prior_state.last_run_number as prior_run_number,
        prior_state.last_run_started_date as prior_run_started_date,
        prior_state.last_run_days as prior_run_days,
        prior_state.last_total_days as prior_total_days
        {% else %}
        cast(null as date) as prior_date,
        cast(null as {{ dbt.type_int() }}) as prior_position,
        cast(null as {{ dbt.type_int() }}) as prior_run_number,
        cast(null as date) as prior_run_started_date,
        cast(null as {{ dbt.type_int() }}) as prior_run_days,
        cast(null as {{ dbt.type_int() }}) as prior_total_days
        {% endif %}
    from sequenced
    {% if is_incremental() %}
    left join prior_state
        on prior_state.chart_id = sequenced.chart_id
        and prior_state.track_id = sequenced.track_id
    {% endif %}
),

flagged as (
    select
        with_prior.*,
        coalesce(previous_date_here, prior_date) as last_charted_date,
        case when previous_date_here is null then prior_position else previous_position_here end
            as last_position,
        case
            when coalesce(previous_date_here, prior_date) is null then 1
            when {{ dbt.datediff('coalesce(previous_date_here, prior_date)', 'chart_date', 'day') }} > {{ max_gap }}
                then 1
            else 0
        end as starts_run
    from with_prior
),

numbered as (
    select
        flagged.*,
        coalesce(prior_run_number, 0) + sum(starts_run) over (
            partition by chart_id, track_id
            order by chart_date
            rows between unbounded preceding and current row
        ) as chart_run_number,
        max(case when starts_run = 1 then chart_date end) over (
            partition by chart_id, track_id
            order by chart_date
            rows between unbounded preceding and current row
        ) as run_started_here
    from flagged
),

recomputed as (
    select
        {{ surrogate_key(['chart_id', 'chart_date', 'track_id']) }} as chart_entry_id,
        chart_id,
        chart_date,
        track_id,
        position,
        streams,
        popularity,
        case when starts_run = 0 then last_position end as previous_position,
        -- positive when the track climbed
        case when starts_run = 0 then last_position - position end as positions_moved,
        last_charted_date is null as is_new_entry,
        (starts_run = 1 and last_charted_date is not null) as is_re_entry,
        coalesce(run_started_here, prior_run_started_date) as first_charted_date,
        last_charted_date,
        cast(
            row_number() over (partition by chart_id, track_id, chart_run_number order by chart_date)
            + case when chart_run_number = prior_run_number then prior_run_days else 0 end
            as {{ dbt.type_int() }}
        ) as days_on_chart,
        cast(coalesce(prior_total_days, 0) + day_number_here as {{ dbt.type_int() }}) as total_days_on_chart,
        cast(chart_run_number as {{ dbt.type_int() }}) as chart_run_number,
        run_id,
        is_staged
    from numbered
),

{% if is_incremental() %}

-- Kept days in which some row's run columns changed: only those are written again.
changed_days as (
    select distinct recomputed.chart_id, recomputed.chart_date
    from recomputed
    inner join {{ this }} as existing
        on existing.chart_id = recomputed.chart_id
        and existing.chart_date = recomputed.chart_date
        and existing.track_id = recomputed.track_id
    where recomputed.is_staged = 0
      and (
        {%- for column in run_columns %}
        not (
            existing.{{ column }} = recomputed.{{ column }}
            or (existing.{{ column }} is null and recomputed.{{ column }} is null)
        ){% if not loop.last %} or{% endif %}
        {%- endfor %}
      )
),

{% endif %}

chart_entries as (
    select
        recomputed.chart_entry_id,
        recomputed.chart_id,
        recomputed.chart_date,
        recomputed.track_id,
        recomputed.position,
        recomputed.streams,
        recomputed.popularity,
        {%- for column in run_columns %}
        recomputed.{{ column }},
        {%- endfor %}
        recomputed.run_id,
        {{ audit_loaded_at() }} as loaded_at
    from recomputed
    {% if is_incremental() %}
    {#- A join rather than `or exists (…)`: Redshift refuses some correlated subqueries under an OR.
        changed_days is distinct, so no row is repeated. #}
    left join changed_days
        on changed_days.chart_id = recomputed.chart_id
        and changed_days.chart_date = recomputed.chart_date
    where recomputed.is_staged = 1
       or changed_days.chart_id is not null
    {% endif %}
)

select * from chart_entries
