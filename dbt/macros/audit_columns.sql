{#-
    The audit timestamp every mart row carries: when the dbt invocation that wrote it started, in
    UTC, as a timestamp without time zone. Taken from run_started_at (a UTC datetime) rather than
    the warehouse clock so that every row written by one run carries the same instant, whichever
    warehouse runs it and whatever its session time zone.
-#}
{% macro audit_loaded_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#-
    The run_id of a table rebuilt whole by every dbt run (the calendar, the analysis marts): the
    pipeline run whose transform rebuilt it, from the run's `run_id` variable. Rows that keep
    their own history (facts, dims) carry the run that extracted their data instead.
-#}
{% macro audit_run_id() -%}
    cast('{{ dbt.escape_single_quotes(var("run_id")) }}' as {{ type_text() }})
{%- endmacro %}
