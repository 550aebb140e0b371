-- Completeness of one entity (the view quality_rows): the share of non-missing cells, per
-- contract column and over the required columns (the key and every not-nullable column)
-- together. Entity and period grains look at the current rows. A submission is judged on
-- what it brought in: its denominator is rows_in, and rows quarantined because a value was
-- missing (rule missing_value) count as missing cells; the other cells of quarantined rows
-- count as present, since the quarantine keeps only the value that failed.
with counts as (
    select
        case
            when grouping(load_id) = 0 then 'submission'
            when grouping(period) = 0 then 'period'
            else 'entity'
        end as grain,
        load_id,
        period,
        count(*) as n_rows,
        count(columns(* exclude (load_id, row_number, is_current, period, entity_key)))
    from quality_rows
    group by grouping sets ((load_id), (is_current), (is_current, period))
    having grouping(load_id) = 0 or is_current
),

cells as (
    unpivot counts
    on columns(* exclude (grain, load_id, period, n_rows))
    into name column_name value n_present
),

contract as (
    select column_name, required from quality_contract
    where entity = getvariable('quality_entity')
),

loads as (
    select load_id, rows_in from meta.loads
    where entity = getvariable('quality_entity')
),

quarantined_missing as (
    select load_id, column_name, count(distinct row_number) as n_missing
    from meta.quarantine
    where entity = getvariable('quality_entity') and rule = 'missing_value'
    group by load_id, column_name
),

-- every submission and column, also those of a load whose rows were all quarantined
submissions as (
    select
        'submission' as grain,
        loads.load_id,
        null::integer as period,
        contract.column_name,
        loads.rows_in
            - coalesce(cells.n_rows - cells.n_present, 0)
            - coalesce(quarantined_missing.n_missing, 0) as numerator,
        loads.rows_in as denominator
    from loads
    cross join contract
    left join cells
        on cells.grain = 'submission'
        and cells.load_id = loads.load_id
        and cells.column_name = contract.column_name
    left join quarantined_missing
        on quarantined_missing.load_id = loads.load_id
        and quarantined_missing.column_name = contract.column_name
),

current_rows as (
    select cells.grain, null::varchar as load_id, cells.period, cells.column_name,
        cells.n_present as numerator, cells.n_rows as denominator
    from cells
    join contract using (column_name)
    where cells.grain = 'entity' or (cells.grain = 'period' and cells.period is not null)
),

per_column as (
    select * from submissions
    union all
    select * from current_rows
),

final as (
    select grain, load_id, period, column_name as detail, numerator, denominator
    from per_column
    union all
    select grain, load_id, period, null as detail, sum(numerator), sum(denominator)
    from per_column
    where column_name in (select column_name from contract where required)
    group by grain, load_id, period
)

select
    getvariable('quality_entity') as entity,
    grain,
    load_id,
    case when period is not null then 'year' end as period_type,
    period,
    'completeness' as dimension,
    detail,
    numerator,
    denominator,
    numerator / nullif(denominator, 0) as value,
    'share' as unit
from final
