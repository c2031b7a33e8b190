{#-
    Every data rule of one model in one query: dbt runs each test as a node of its own, and its cost
    per node (about 15 ms on this machine's 2 cores) made ~180 one-rule tests most of a day's dbt
    phase. This test checks the same rules, with the same meaning as the tests they replace:

    - not_null: [column, ...]                  a row fails where the column is null;
    - unique: [column | [column, ...], ...]    a value (nulls aside), or a combination of columns
                                               (nulls included), that occurs on more than one row;
    - accepted_range: {column: {min_value, max_value, inclusive}}
                                               a non-null value outside the bounds (either may be
                                               left out; inclusive by default);
    - accepted_values: {column: [value, ...]}  a non-null value not in the list;
    - relationships: {column: {to: model, field: column}}
                                               a non-null value with no row of `to` whose `field`
                                               holds it.

    It returns one row per broken rule, naming it (`rule`) with how many rows or keys break it
    (`failing_rows`); the test's failure count is their sum. To see which rule failed:
    `dbt test --select <the test> --store-failures`, or run its compiled SQL from target/compiled.
    Rules with a config of their own (a severity, a `where`) stay separate tests.
    See docs/architecture.md, "The transform".
-#}
{% test rules(model, not_null=none, unique=none, accepted_range=none, accepted_values=none, relationships=none) %}
    {{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}

    {%- set row_rules = [] -%}
    {%- for column in not_null or [] -%}
        {%- do row_rules.append(('not_null(' ~ column ~ ')', column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, bounds in (accepted_range or {}).items() -%}
        {%- set inclusive = bounds.get('inclusive', true) -%}
        {%- set outside, within = [], [] -%}
        {%- if bounds.get('min_value') is not none -%}
            {%- do outside.append(column ~ (' < ' if inclusive else ' <= ') ~ bounds['min_value']) -%}
            {%- do within.append(column ~ (' >= ' if inclusive else ' > ') ~ bounds['min_value']) -%}
        {%- endif -%}
        {%- if bounds.get('max_value') is not none -%}
            {%- do outside.append(column ~ (' > ' if inclusive else ' >= ') ~ bounds['max_value']) -%}
            {%- do within.append(column ~ (' <= ' if inclusive else ' < ') ~ bounds['max_value']) -%}
        {%- endif -%}
        {%- if not outside -%}
            {{ exceptions.raise_compiler_error("rules: accepted_range on " ~ column ~ " needs min_value, max_value or both") }}
        {%- endif -%}
        {%- do row_rules.append((
            'accepted_range(' ~ within | join(', ') ~ ')',
            column ~ ' is not null and (' ~ outside | join(' or ') ~ ')'
        )) -%}
    {%- endfor -%}
    {%- for column, values in (accepted_values or {}).items() -%}
        {%- set literals = [] -%}
        {%- for value in values -%}
            {%- do literals.append(value if value is number else "'" ~ (value | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- do row_rules.append((
            'accepted_values(' ~ column ~ ')',
            column ~ ' is not null and ' ~ column ~ ' not in (' ~ literals | join(', ') ~ ')'
        )) -%}
    {%- endfor -%}

    {%- set branches = [] -%}
    {%- for label, condition in row_rules -%}
        {%- do branches.append(
            "select cast('" ~ label ~ "' as " ~ dbt.type_string() ~ ") as rule, rule_" ~ loop.index ~ " as failing_rows from row_rules"
        ) -%}
    {%- endfor -%}
    {%- for key in unique or [] -%}
        {%- set columns = [key] if key is string else key -%}
        {%- set branch -%}
            select cast('unique({{ columns | join(", ") }})' as {{ dbt.type_string() }}) as rule, count(*) as failing_rows
            from (
                select {{ columns | join(', ') }}
                from {{ model }}
                {%- if key is string %}
                where {{ key }} is not null
                {%- endif %}
                group by {{ columns | join(', ') }}
                having count(*) > 1
            ) as duplicated
        {%- endset -%}
        {%- do branches.append(branch) -%}
    {%- endfor -%}
    {%- for column, target in (relationships or {}).items() -%}
        {%- set branch -%}
            select cast('relationships({{ column }} to {{ target["to"] }}.{{ target["field"] }})' as {{ dbt.type_string() }}) as rule, count(*) as failing_rows
            from {{ model }} as child
            left join {{ ref(target['to']) }} as parent
                on parent.{{ target['field'] }} = child.{{ column }}
            where child.{{ column }} is not null
              and parent.{{ target['field'] }} is null
        {%- endset -%}
        {%- do branches.append(branch) -%}
    {%- endfor -%}
    {%- if not branches -%}
        {{ exceptions.raise_compiler_error("rules: no rule given") }}
    {%- endif %}

{%- if row_rules %}
with row_rules as (
    select
    {%- for label, condition in row_rules %}
        sum(case when {{ condition }} then 1 else 0 end) as rule_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
{%- endif %}
select rule, failing_rows
from (
    {{ branches | join('\n    union all\n    ') }}
) as checked
where failing_rows > 0
{% endtest %}
