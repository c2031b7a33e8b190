{#-
    Fails on every combination of the columns that occurs on more than one row: the grain test of a
    model keyed by several columns. (dbt_utils has one; we use no packages.)
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set key_columns = combination_of_columns | join(', ') %}

select {{ key_columns }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ key_columns }}
having count(*) > 1
{% endtest %}
