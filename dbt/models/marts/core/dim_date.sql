-- The calendar (grain: date_day), from `calendar_start` to `calendar_end` (dbt_project.yml), with
-- the parts analysts group by: year, quarter, month, ISO week and weekday. Rebuilt by every run
-- (it is small and derived from nothing), so its run_id is the run that last rebuilt it.

{{ config(materialized='table') }}

with

spine as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start') ~ "' as date)",
        dbt.dateadd('day', 1, "cast('" ~ var('calendar_end') ~ "' as date)"),
    ) }}
),

days as (
    select cast(date_day as date) as date_day
    from spine
),

calendar as (
    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as year_number,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as quarter_number,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as month_number,
        case cast(extract(month from date_day) as {{ dbt.type_int() }})
            {%- for name in ['January', 'February', 'March', 'April', 'May', 'June', 'July',
                             'August', 'September', 'October', 'November', 'December'] %}
            when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as month_name,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        cast(extract(doy from date_day) as {{ dbt.type_int() }}) as day_of_year,
        {{ iso_year('date_day') }} as iso_year,
        {{ iso_week('date_day') }} as iso_week,
        {{ iso_week_start('date_day') }} as iso_week_start_date,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        case {{ iso_day_of_week('date_day') }}
            {%- for name in ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] %}
            when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as day_name,
        {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
    from days
)

select
    calendar.*,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from calendar
