{#-
    A double rounded to `places` decimals, as a double. Aggregates of doubles (averages,
    correlations) depend in their last bits on the order rows are summed in, which differs between
    runs and warehouses; rounded, the same data always gives the same value.
-#}
{% macro round_double(expr, places=6) -%}
    cast(round(cast({{ expr }} as numeric(38, 12)), {{ places }}) as {{ type_double() }})
{%- endmacro %}

{#-
    Pearson's correlation coefficient of two columns over the rows of a group, from sums (Redshift
    has no corr() aggregate). Null when fewer than two pairs or when either column is constant.
-#}
{% macro pearson(x, y) -%}
    {%- set n = 'cast(count(' ~ x ~ ' + ' ~ y ~ ') as ' ~ type_double() ~ ')' -%}
    {%- set sx = 'sum(case when ' ~ y ~ ' is not null then cast(' ~ x ~ ' as ' ~ type_double() ~ ') end)' -%}
    {%- set sy = 'sum(case when ' ~ x ~ ' is not null then cast(' ~ y ~ ' as ' ~ type_double() ~ ') end)' -%}
    {%- set sxx = 'sum(case when ' ~ y ~ ' is not null then cast(' ~ x ~ ' as ' ~ type_double() ~ ') * ' ~ x ~ ' end)' -%}
    {%- set syy = 'sum(case when ' ~ x ~ ' is not null then cast(' ~ y ~ ' as ' ~ type_double() ~ ') * ' ~ y ~ ' end)' -%}
    {%- set sxy = 'sum(cast(' ~ x ~ ' as ' ~ type_double() ~ ') * ' ~ y ~ ')' -%}
    case
        when {{ n }} < 2 then null
        when ({{ n }} * {{ sxx }} - {{ sx }} * {{ sx }}) <= 0 or ({{ n }} * {{ syy }} - {{ sy }} * {{ sy }}) <= 0 then null
        else ({{ n }} * {{ sxy }} - {{ sx }} * {{ sy }})
            / sqrt(({{ n }} * {{ sxx }} - {{ sx }} * {{ sx }}) * ({{ n }} * {{ syy }} - {{ sy }} * {{ sy }}))
    end
{%- endmacro %}
