-- Timeliness of one entity with a period (the view quality_rows): days from the end of a
-- period (31 December of the year) to the load that delivered it. Period grain: each period
-- of the current rows and the first load that brought any row of it; entity grain: the same
-- for the latest period (its period column says which); submission grain: the latest period in the load and its load
-- date. Negative days: data delivered before the period closed (a preliminary figure).
with rows_loaded as (
    select quality_rows.period, quality_rows.is_current, loads.load_id, loads.loaded_at
    from quality_rows
    join meta.loads as loads using (load_id)
    where quality_rows.period is not null
),

first_delivery as (
    select period, min(loaded_at) as first_loaded_at
    from rows_loaded
    group by period
    having bool_or(is_current)
),

periods as (
    select
        'period' as grain,
        null::varchar as load_id,
        period,
        date_diff('day', make_date(period, 12, 31), cast(first_loaded_at as date)) as days
    from first_delivery
),

latest as (
    select 'entity' as grain, null::varchar as load_id, period, days
    from periods
    order by period desc
    limit 1
),

submissions as (
    select
        'submission' as grain,
        load_id,
        null::integer as period,
        date_diff('day', make_date(max(period), 12, 31), cast(max(loaded_at) as date)) as days
    from rows_loaded
    group by load_id
),

final as (
    select * from periods
    union all select * from latest
    union all select * from submissions
)

select
    getvariable('quality_entity') as entity,
    grain,
    load_id,
    case when grain != 'submission' then 'year' end as period_type,
    period,  -- entity grain: the latest period, the one its figure is about
    'timeliness' as dimension,
    null as detail,
    days as numerator,
    null::double as denominator,
    days as value,
    'days' as unit
from final
