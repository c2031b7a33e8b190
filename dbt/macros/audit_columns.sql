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
    transform batch that rebuilt it, from CHARTFLOW_BATCH_ID, which the runner puts in dbt's
    environment (a day run alone is a batch named by its load). Rows that keep their own history
    (facts, dims) carry the run that extracted their data instead.

    The variable is read when the model runs, not when it is parsed (`execute` is false then): dbt
    re-parses every file that read an environment variable whose value changed, and this one
    changes with every batch, so reading it at parse time would cost every run a partial re-parse.
-#}
{% macro audit_run_id() -%}
    {%- set batch_id = env_var("CHARTFLOW_BATCH_ID", "") if execute else "" -%}
    cast('{{ dbt.escape_single_quotes(batch_id) }}' as {{ type_text() }})
{%- endmacro %}
