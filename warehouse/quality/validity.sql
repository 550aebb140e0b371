-- Validity of every entity: the share of submitted rows that passed the contract and the
-- reference checks (rows_loaded / rows_in, from meta.loads), and per contract column the
-- share of rows with no quarantine record on that column (from meta.quarantine; a rule over
-- several columns, such as a duplicate key, counts against each of them). Submission grain:
-- one load; entity grain: every load of the entity. There is no period grain: the
-- quarantine keeps only the failing value, not the row's period.
with loads as (
    select load_id, entity, rows_in, rows_loaded from meta.loads
),

quarantined as (
    select
        quarantine.load_id,
        trim(failing.column_name) as column_name,
        count(distinct quarantine.row_number) as n_rows
    from meta.quarantine as quarantine,
        unnest(string_split(quarantine.column_name, ',')) as failing(column_name)
    group by quarantine.load_id, trim(failing.column_name)
),

per_column as (
    select
        loads.load_id,
        loads.entity,
        contract.column_name,
        loads.rows_in - coalesce(quarantined.n_rows, 0) as numerator,
        loads.rows_in as denominator
    from loads
    join quality_contract as contract on contract.entity = loads.entity
    left join quarantined
        on quarantined.load_id = loads.load_id and quarantined.column_name = contract.column_name
),

final as (
    select entity, 'submission' as grain, load_id, null as detail,
        rows_loaded as numerator, rows_in as denominator
    from loads
    union all
    select entity, 'entity', null, null, sum(rows_loaded), sum(rows_in)
    from loads
    group by entity
    union all
    select entity, 'submission', load_id, column_name, numerator, denominator
    from per_column
    union all
    select entity, 'entity', null, column_name, sum(numerator), sum(denominator)
    from per_column
    group by entity, column_name
)

select
    entity,
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
