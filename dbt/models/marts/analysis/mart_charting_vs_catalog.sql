-- What the songs that make the charts have in common, against the rest of the catalog (grain:
-- catalog_group): the tracks that have charted (on any chart) against those seen only in a catalog
-- sample (fct_catalog_samples) and never on a chart. Each track counts once, its popularity
-- averaged over the days it was seen. Both rows are always there; the second is empty (tracks = 0)
-- when no catalog sample was collected.

with

chart_popularity as (
    select track_id, avg(cast(popularity as {{ type_double() }})) as popularity
    from {{ ref('fct_chart_entries') }}
    group by track_id
),

sample_popularity as (
    select track_id, avg(cast(popularity as {{ type_double() }})) as popularity
    from {{ ref('fct_catalog_samples') }}
    where track_id not in (select track_id from chart_popularity)
    group by track_id
),

grouped_tracks as (
    select 'charting' as catalog_group, track_id, popularity from chart_popularity
    union all
    select 'non_charting' as catalog_group, track_id, popularity from sample_popularity
),

groups as (
    select 'charting' as catalog_group, 1 as group_order
    union all
    select 'non_charting' as catalog_group, 2 as group_order
),

profiled as (
    select
        grouped_tracks.catalog_group,
        grouped_tracks.popularity,
        tracks.*
    from grouped_tracks
    inner join {{ ref('dim_tracks') }} as tracks
        on tracks.track_id = grouped_tracks.track_id
),

aggregated as (
    select
        catalog_group,
        count(*) as tracks,
        count(features_as_of_date) as tracks_with_features,
        {%- for feature in audio_features() %}
        {{ round_double('avg(' ~ feature ~ ')') }} as avg_{{ feature }},
        {%- endfor %}
        {{ round_double('avg(popularity)', 3) }} as avg_popularity,
        {{ round_double('avg(cast(duration_ms as ' ~ type_double() ~ '))', 1) }} as avg_duration_ms,
        {#- Doubles, not 1.0 and 0.0: Redshift's avg of a numeric keeps its scale (one decimal). #}
        {{ round_double('avg(case when is_explicit then cast(1 as ' ~ type_double() ~ ') when not is_explicit then cast(0 as ' ~ type_double() ~ ') end)', 6) }}
            as explicit_share
    from profiled
    group by catalog_group
)

select
    cast(groups.catalog_group as {{ type_text() }}) as catalog_group,
    cast(coalesce(aggregated.tracks, 0) as {{ dbt.type_int() }}) as tracks,
    cast(coalesce(aggregated.tracks_with_features, 0) as {{ dbt.type_int() }}) as tracks_with_features,
    {%- for feature in audio_features() %}
    aggregated.avg_{{ feature }},
    {%- endfor %}
    aggregated.avg_popularity,
    aggregated.avg_duration_ms,
    aggregated.explicit_share,
    {{ audit_run_id() }} as run_id,
    {{ audit_loaded_at() }} as loaded_at
from groups
left join aggregated
    on aggregated.catalog_group = groups.catalog_group
