-- One row per chart run (grain: chart_id, track_id, chart_run_number): from the day a track
-- entered or re-entered a chart to its last day there before a gap of more than
-- `chart_run_max_gap_days` days. How long songs stay, run by run.

{%- set max_gap = var('chart_run_max_gap_days') | int %}

with

entries as (
    select * from {{ ref('fct_chart_entries') }}
),

latest_days as (
    select chart_id, max(chart_date) as latest_chart_date
    from entries
    group by chart_id
),

runs as (
    select
        chart_id,
        track_id,
        chart_run_number,
        min(chart_date) as run_started_date,
        max(chart_date) as run_last_date,
        count(*) as days_on_chart,
        min(position) as peak_position,
        sum(case when position <= 10 then 1 else 0 end) as days_in_top_10,
        {{ round_double('avg(cast(position as ' ~ type_double() ~ '))', 3) }} as average_position,
        sum(streams) as streams
    from entries
    group by chart_id, track_id, chart_run_number
)

select
    {{ surrogate_key(['runs.chart_id', 'runs.track_id', 'runs.chart_run_number']) }} as chart_run_id,
    runs.chart_id,
    runs.track_id,
    runs.chart_run_number,
    runs.chart_run_number > 1 as is_re_entry,
    runs.run_started_date,
    runs.run_last_date,
    cast(runs.days_on_chart as {{ dbt.type_int() }}) as days_on_chart,
    cast({{ dbt.datediff('runs.run_started_date', 'runs.run_last_date', 'day') }} + 1 as {{ dbt.type_int() }})
        as span_days,
    first_day.position as entry_position,
    runs.peak_position,
    last_day.position as last_position,
    cast(runs.days_in_top_10 as {{ dbt.type_int() }}) as days_in_top_10,
    runs.average_position,
    runs.streams,
    -- still running: the chart's latest day is within the gap that keeps a run going
    {{ dbt.datediff('runs.run_last_date', 'latest_days.latest_chart_date', 'day') }} <= {{ max_gap }}
        as is_ongoing,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from runs
inner join latest_days
    on latest_days.chart_id = runs.chart_id
inner join entries as first_day
    on first_day.chart_id = runs.chart_id
    and first_day.track_id = runs.track_id
    and first_day.chart_date = runs.run_started_date
inner join entries as last_day
    on last_day.chart_id = runs.chart_id
    and last_day.track_id = runs.track_id
    and last_day.chart_date = runs.run_last_date
