-- Consistency of one entity: the share of rows that pass its cross-entity checks (the view
-- quality_checks, from consistency_<entity>.sql over quality_rows: one boolean column per
-- check), per check and for all checks together (a row passes when it passes every check).
-- Entity and period grains: current rows; submission grain: the rows a load brought in.
-- Counted per check with aggregates, then unpivoted: no row is materialized per check.
with checks as (
    select
        load_id,
        is_current,
        period,
        list_bool_and(list_value(*columns(* exclude (load_id, is_current, period))))
            as "(all checks)",
        columns(* exclude (load_id, is_current, period))
    from quality_checks
),

counts as (
    select
        case
            when grouping(load_id) = 0 then 'submission'
            when grouping(period) = 0 then 'period'
            else 'entity'
        end as grain,
        load_id,
        period,
        count(*) as n_rows,
        count_if(columns(* exclude (load_id, is_current, period)))
    from checks
    group by grouping sets ((load_id), (is_current), (is_current, period))
    having grouping(load_id) = 0 or is_current
),

passed as (
    unpivot counts
    on columns(* exclude (grain, load_id, period, n_rows))
    into name check_name value n_passed
)

select
    getvariable('quality_entity') as entity,
    grain,
    load_id,
    case when period is not null then 'year' end as period_type,
    period,
    'consistency' as dimension,
    case when check_name != '(all checks)' then check_name end as detail,
    cast(n_passed as bigint) as numerator,
    n_rows as denominator,
    n_passed / nullif(n_rows, 0) as value,
    'share' as unit
from passed
where grain != 'period' or period is not null
