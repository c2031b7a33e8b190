-- How audio features relate to position and longevity, as Pearson correlations (grain: chart_id,
-- feature_name). Position is 1 at the top, so a negative correlation with position (or with peak
-- position) means the feature runs higher near the top; a positive one with days on the chart
-- means it runs higher in tracks that stay longer.
--   * with_position: over chart entries (one per track and day);
--   * with_peak_position, with_total_days_on_chart: over tracks (one per track on the chart).

with

entries as (
    select * from {{ ref('fct_chart_entries') }}
),

tracks as (
    select * from {{ ref('dim_tracks') }}
),

longevity as (
    select
        chart_id,
        track_id,
        min(position) as peak_position,
        count(*) as total_days_on_chart
    from entries
    group by chart_id, track_id
),

per_entry as (
    select
        entries.chart_id,
        entries.position,
        {%- for feature in audio_features() %}
        tracks.{{ feature }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from entries
    inner join tracks
        on tracks.track_id = entries.track_id
),

per_track as (
    select
        longevity.chart_id,
        longevity.peak_position,
        longevity.total_days_on_chart,
        {%- for feature in audio_features() %}
        tracks.{{ feature }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from longevity
    inner join tracks
        on tracks.track_id = longevity.track_id
),

{%- for feature in audio_features() %}

{{ feature }}_by_entry as (
    select
        chart_id,
        cast(count({{ feature }}) as {{ dbt.type_int() }}) as entries,
        {{ round_double(pearson(feature, 'position')) }} as with_position
    from per_entry
    group by chart_id
),

{{ feature }}_by_track as (
    select
        chart_id,
        cast(count({{ feature }}) as {{ dbt.type_int() }}) as tracks,
        {{ round_double(pearson(feature, 'peak_position')) }} as with_peak_position,
        {{ round_double(pearson(feature, 'total_days_on_chart')) }} as with_total_days_on_chart
    from per_track
    group by chart_id
),
{%- endfor %}

correlations as (
    {%- for feature in audio_features() %}
    select
        {{ feature }}_by_entry.chart_id,
        cast('{{ feature }}' as {{ type_text() }}) as feature_name,
        {{ feature }}_by_entry.entries,
        {{ feature }}_by_track.tracks,
        {{ feature }}_by_entry.with_position,
        {{ feature }}_by_track.with_peak_position,
        {{ feature }}_by_track.with_total_days_on_chart
    from {{ feature }}_by_entry
    inner join {{ feature }}_by_track
        on {{ feature }}_by_track.chart_id = {{ feature }}_by_entry.chart_id
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    correlations.*,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from correlations
