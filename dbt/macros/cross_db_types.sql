{#-
    Column types that dbt's own type macros get wrong for us on one of our warehouses.
    Everything else uses dbt.type_int(), dbt.type_bigint(), dbt.type_boolean(), dbt.type_timestamp().
-#}

{#- Unbounded text. dbt.type_string() is `text`, which Redshift silently turns into varchar(256):
    too short for the artist lists of some tracks, and counted in bytes (emoji take 4). -#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'chartflow')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    {{ return(dbt.type_string()) }}
{%- endmacro %}

{% macro redshift__type_text() -%}
    {{ return('varchar(65535)') }}
{%- endmacro %}

{#- 8-byte floating point. dbt.type_float() is `float`, which DuckDB reads as a 4-byte REAL. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'chartflow')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ return('double precision') }}
{%- endmacro %}
