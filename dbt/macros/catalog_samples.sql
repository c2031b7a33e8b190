{#-
    Whether a chart id names a catalog sample rather than a chart: a playlist holding a sample of
    the catalog, read like a chart so that its tracks are enriched the same way (the sandbox serves
    one as `catalog-sample`). Its rows go to fct_catalog_samples, never to fct_chart_entries: a
    sample has no positions worth ranking, and its tracks have not charted by being in it.
    The ids are the `catalog_sample_charts` variable (dbt_project.yml).
-#}
{% macro is_catalog_sample(chart_id_expr) -%}
    {%- set ids = var('catalog_sample_charts', []) -%}
    {%- if ids | length == 0 -%}
        false
    {%- else -%}
        {{ chart_id_expr }} in (
            {%- for id in ids -%}
                '{{ dbt.escape_single_quotes(id) }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}
