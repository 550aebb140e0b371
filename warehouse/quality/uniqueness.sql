-- Uniqueness of one entity (the view quality_rows): distinct keys / rows. Entity and period
-- grains: the current rows, which the analyses use; submission grain: the rows a load
-- brought in (the loader quarantines keys duplicated within a file, and a later load
-- supersedes the keys it covers, so anything below 1 means that mechanism failed).
with counts as (
    select
        case
            when grouping(load_id) = 0 then 'submission'
            when grouping(period) = 0 then 'period'
            else 'entity'
        end as grain,
        load_id,
        period,
        count(distinct entity_key) as n_keys,
        count(*) as n_rows
    from quality_rows
    group by grouping sets ((load_id), (is_current), (is_current, period))
    having grouping(load_id) = 0 or is_current
)

select
    getvariable('quality_entity') as entity,
    grain,
    load_id,
    case when period is not null then 'year' end as period_type,
    period,
    'uniqueness' as dimension,
    null as detail,
    n_keys as numerator,
    n_rows as denominator,
    n_keys / nullif(n_rows, 0) as value,
    'share' as unit
from counts
where grain != 'period' or period is not null
