-- Completeness of one entity (the view quality_rows): the share of non-missing cells, per
-- contract column and over the required columns (the key and every not-nullable column)
-- together. Submission and entity grains count the submitted rows: the rows loaded plus
-- the rows quarantined (the views quality_loads and quality_quarantine; rows the agency
-- dropped by decision are neither). Submission grain: one load; entity grain: the sum over
-- the loads that stand now (meta.load_supersession, as reports/queries/quarantine.sql: a
-- file loaded again counts once). A quarantined row's cells are read from its record as
-- submitted (migration 020): an empty cell is missing, a value that failed validation is
-- present. A cell its record does not hold (a row quarantined before records were kept, or
-- a broken line) counts as missing only when it was quarantined as missing_value. The period grain
-- looks at the current rows only (the quarantine keeps no row's period).
with counts as (
    select
        case when grouping(load_id) = 0 then 'submission' else 'period' end as grain,
        load_id,
        period,
        count(*) as n_rows,
        count(columns(* exclude (load_id, row_number, is_current, period, entity_key)))
    from quality_rows
    group by grouping sets ((load_id), (is_current, period))
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
    select load_id, rows_submitted, is_current from quality_loads
    where entity = getvariable('quality_entity')
),

quarantine as (
    select * from quality_quarantine where entity = getvariable('quality_entity')
),

quarantined_rows as (
    select load_id, row_number, any_value(record) as record,
        list(distinct column_name) filter (where rule = 'missing_value') as missing_columns
    from quarantine
    group by load_id, row_number
),

quarantined_missing as (
    select quarantined_rows.load_id, contract.column_name, count(*) as n_missing
    from quarantined_rows
    cross join contract
    where case
        when json_exists(quarantined_rows.record, '$."' || contract.column_name || '"')
            then nullif(trim(json_extract_string(
                quarantined_rows.record, '$."' || contract.column_name || '"'
            )), '') is null
        else coalesce(list_contains(quarantined_rows.missing_columns, contract.column_name), false)
    end
    group by quarantined_rows.load_id, contract.column_name
),

-- every submission and column, also those of a load whose rows were all quarantined
submissions as (
    select
        'submission' as grain,
        loads.load_id,
        null::integer as period,
        loads.is_current,
        contract.column_name,
        loads.rows_submitted
            - coalesce(cells.n_rows - cells.n_present, 0)
            - coalesce(quarantined_missing.n_missing, 0) as numerator,
        loads.rows_submitted as denominator
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

entity as (
    select 'entity' as grain, null::varchar as load_id, null::integer as period, column_name,
        sum(numerator) as numerator, sum(denominator) as denominator
    from submissions
    where is_current
    group by column_name
),

current_rows as (
    select cells.grain, null::varchar as load_id, cells.period, cells.column_name,
        cells.n_present as numerator, cells.n_rows as denominator
    from cells
    join contract using (column_name)
    where cells.grain = 'period' and cells.period is not null
),

per_column as (
    select * exclude (is_current) from submissions
    union all
    select * from entity
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
