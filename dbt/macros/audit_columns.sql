{#-
    The audit timestamp every mart row carries: when the dbt invocation that wrote it started, in
    UTC, as a timestamp without time zone. Taken from run_started_at (a UTC datetime) rather than
    the warehouse clock so that every row written by one run carries the same instant, whichever
    warehouse runs it and whatever its session time zone.
-#}
{% macro audit_loaded_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
