{#-
    Fails on every non-null value of the column outside [min_value, max_value] (or the open
    interval when inclusive is false). Either bound may be left out. Nulls pass: whether a column
    may be null is not_null's business. (dbt_utils has one; we use no packages.)
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range on " ~ column_name ~ " needs min_value, max_value or both") }}
    {%- endif %}

select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and (
    {%- if min_value is not none %}
        {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if min_value is not none and max_value is not none %}
        or
    {%- endif %}
    {%- if max_value is not none %}
        {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}
