{#-
    An album's release date ('YYYY', 'YYYY-MM' or 'YYYY-MM-DD', as its precision says) as a date:
    the first day of its year or month when that is all that is known. Anything else, and years
    before 1900 (Spotify gives '0000' for some old recordings), gives null rather than failing the
    run: the text itself stays in release_date. Built by date arithmetic on checked digits, since
    PostgreSQL and Redshift have no cast that returns null on bad input.
-#}
{% macro release_date_to_date(text_expr, precision_expr) -%}
    case
        when {{ text_expr }} is not null
            and translate({{ text_expr }}, '0123456789', '') = case {{ precision_expr }}
                when 'year' then '' when 'month' then '-' when 'day' then '--' end
            and {{ dbt.length(text_expr) }} = case {{ precision_expr }}
                when 'year' then 4 when 'month' then 7 when 'day' then 10 end
            and substring({{ text_expr }}, 1, 4) between '1900' and '2099'
            and ({{ precision_expr }} = 'year' or substring({{ text_expr }}, 6, 2) between '01' and '12')
            and ({{ precision_expr }} <> 'day' or substring({{ text_expr }}, 9, 2) between '01' and '31')
        then cast(
            {{ dbt.dateadd(
                'day',
                "case when " ~ precision_expr ~ " = 'day' then cast(substring(" ~ text_expr ~ ", 9, 2) as " ~ dbt.type_int() ~ ") - 1 else 0 end",
                dbt.dateadd(
                    'month',
                    "case when " ~ precision_expr ~ " <> 'year' then cast(substring(" ~ text_expr ~ ", 6, 2) as " ~ dbt.type_int() ~ ") - 1 else 0 end",
                    "cast(" ~ dbt.concat(["substring(" ~ text_expr ~ ", 1, 4)", "'-01-01'"]) ~ " as date)",
                ),
            ) }}
        as date)
    end
{%- endmacro %}
