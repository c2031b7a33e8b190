{#-
    Schemas are named exactly as configured (stage, staging, snapshots, marts), in every target:
    the pipeline, the checks and the analysts address them by those names. dbt's default would
    prefix the target's schema (public_marts); a node without a custom schema lands in the
    target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
