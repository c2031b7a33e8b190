{#-
    A surrogate key: the md5 of the expressions as text, joined by '|'. Every expression is cast
    to unbounded text (on Redshift, a bare varchar would be 256 bytes and could cut a value).
    Key columns are never null (their tests say so), so no null needs a stand-in here.
    (dbt_utils.generate_surrogate_key does this; we use no packages.)
    md5 of the concatenation as it is, not dbt.hash: that casts its argument to the adapter's
    `string` type, which on Redshift is TEXT, that is varchar(256), and would cut a long key before
    hashing it. md5 is the same function, with the same hex answer, on all three warehouses.
-#}
{% macro surrogate_key(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append('cast(' ~ expression ~ ' as ' ~ type_text() ~ ')') -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    md5({{ dbt.concat(parts) }})
{%- endmacro %}
