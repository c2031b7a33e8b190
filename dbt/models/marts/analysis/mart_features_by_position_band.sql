-- How audio features relate to position (grain: chart_id, position_band): the average features of
-- the entries in each band of positions, each chart day counting once per entry, with how long
-- those entries' runs had lasted. Entries of tracks without features count in `entries` only.

{%- set bands = [
    {'label': '1-10', 'low': 1, 'high': 10},
    {'label': '11-25', 'low': 11, 'high': 25},
    {'label': '26-50', 'low': 26, 'high': 50},
    {'label': '51-100', 'low': 51, 'high': 100},
    {'label': '101-200', 'low': 101, 'high': 200},
    {'label': '201+', 'low': 201, 'high': none},
] %}

with

entries as (
    select * from {{ ref('fct_chart_entries') }}
),

tracks as (
    select * from {{ ref('dim_tracks') }}
),

banded as (
    select
        entries.*,
        case
            {%- for band in bands %}
            when entries.position >= {{ band.low }}{% if band.high %} and entries.position <= {{ band.high }}{% endif %}
                then {{ loop.index }}
            {%- endfor %}
        end as position_band_order,
        {%- for feature in audio_features() %}
        tracks.{{ feature }},
        {%- endfor %}
        tracks.features_as_of_date
    from entries
    inner join tracks
        on tracks.track_id = entries.track_id
)

select
    chart_id,
    case position_band_order
        {%- for band in bands %}
        when {{ loop.index }} then '{{ band.label }}'
        {%- endfor %}
    end as position_band,
    cast(position_band_order as {{ dbt.type_int() }}) as position_band_order,
    cast(count(*) as {{ dbt.type_int() }}) as entries,
    cast(count(distinct track_id) as {{ dbt.type_int() }}) as tracks,
    cast(count(features_as_of_date) as {{ dbt.type_int() }}) as entries_with_features,
    {%- for feature in audio_features() %}
    {{ round_double('avg(' ~ feature ~ ')') }} as avg_{{ feature }},
    {%- endfor %}
    {{ round_double('avg(cast(popularity as ' ~ type_double() ~ '))', 3) }} as avg_popularity,
    {{ round_double('avg(cast(days_on_chart as ' ~ type_double() ~ '))', 3) }} as avg_days_in_run,
    {{ round_double('avg(cast(total_days_on_chart as ' ~ type_double() ~ '))', 3) }} as avg_total_days_on_chart,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from banded
group by chart_id, position_band_order
