{#-
    ISO 8601 calendar parts of a date, the same on DuckDB, PostgreSQL and Redshift. Redshift has
    no isodow or isoyear date parts, so everything is derived from the ISO weekday and the
    Thursday of the date's week (the ISO year is the year of that Thursday, and the ISO week is
    that Thursday's week of its year).
-#}

{#- 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'chartflow')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro redshift__iso_day_of_week(date_expr) -%}
    {#- Redshift's dow is 0 = Sunday ... 6 = Saturday. -#}
    cast(case extract(dow from {{ date_expr }}) when 0 then 7 else extract(dow from {{ date_expr }}) end as {{ dbt.type_int() }})
{%- endmacro %}

{#- The Monday that starts the date's ISO week. -#}
{% macro iso_week_start(date_expr) -%}
    cast({{ dbt.dateadd('day', '1 - ' ~ iso_day_of_week(date_expr), date_expr) }} as date)
{%- endmacro %}

{#- The Thursday of the date's ISO week, which decides its ISO year and week. -#}
{% macro iso_week_thursday(date_expr) -%}
    cast({{ dbt.dateadd('day', '4 - ' ~ iso_day_of_week(date_expr), date_expr) }} as date)
{%- endmacro %}

{% macro iso_year(date_expr) -%}
    cast(extract(year from {{ iso_week_thursday(date_expr) }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro iso_week(date_expr) -%}
    cast(floor((extract(doy from {{ iso_week_thursday(date_expr) }}) - 1) / 7) + 1 as {{ dbt.type_int() }})
{%- endmacro %}
