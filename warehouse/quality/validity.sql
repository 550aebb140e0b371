-- Validity of one entity: the share of submitted rows that passed the contract and the
-- cross-entity rules, and per contract column the share of submitted rows with no
-- quarantine record on that column (a rule over several columns, such as a duplicate key,
-- counts against each of them). Submitted rows are the rows loaded plus the rows
-- quarantined (the views quality_loads and quality_quarantine; rows the agency dropped by
-- decision are neither). Submission grain: one load (rows loaded / rows submitted, from
-- quality_loads); entity grain: the sum over the loads that stand now
-- (meta.load_supersession, as reports/queries/quarantine.sql: a file loaded again counts
-- once). There is no period grain: the quarantine keeps only the failing value, not the
-- row's period.
with loads as (
    select load_id, rows_loaded, rows_submitted, is_current from quality_loads
    where entity = getvariable('quality_entity')
),

quarantine as (
    select * from quality_quarantine where entity = getvariable('quality_entity')
),

contract as (
    select column_name from quality_contract where entity = getvariable('quality_entity')
),

quarantined as (
    select load_id, column_name, count(distinct row_number) as n_rows
    from quarantine
    group by load_id, column_name
),

per_column as (
    select
        loads.load_id,
        loads.is_current,
        contract.column_name,
        loads.rows_submitted - coalesce(quarantined.n_rows, 0) as numerator,
        loads.rows_submitted as denominator
    from loads
    cross join contract
    left join quarantined
        on quarantined.load_id = loads.load_id and quarantined.column_name = contract.column_name
),

final as (
    select 'submission' as grain, load_id, null as detail,
        rows_loaded as numerator, rows_submitted as denominator
    from loads
    union all
    select 'entity', null, null, sum(rows_loaded), sum(rows_submitted)
    from loads
    where is_current
    having count(*) > 0  -- an entity never loaded has no figure
    union all
    select 'submission', load_id, column_name, numerator, denominator
    from per_column
    union all
    select 'entity', null, column_name, sum(numerator), sum(denominator)
    from per_column
    where is_current
    group by column_name
)

select
    getvariable('quality_entity') as entity,
    grain,
    load_id,
    null::varchar as period_type,
    null::integer as period,
    'validity' as dimension,
    detail,
    numerator,
    denominator,
    numerator / nullif(denominator, 0) as value,
    'share' as unit
from final
