-- Uniqueness of one entity: the share of submitted rows that are not duplicates. Submitted
-- rows are the rows loaded (the view quality_rows) plus the rows quarantined (the view
-- quality_quarantine, without rows the agency dropped by decision); duplicates are the
-- rows quarantined as duplicate_key (the loader quarantines every row of a key duplicated
-- within a file) plus loaded rows beyond one per key (none, unless that mechanism failed).
-- So 1 - uniqueness = duplicated rows / submitted rows, which counts what the agency sent,
-- not only what survived the quarantine. Submission grain: one load's rows and its
-- quarantine; entity grain: the sum over the loads that stand now (meta.load_supersession,
-- as reports/queries/quarantine.sql: a file loaded again counts once). Period grain: the
-- current rows only (distinct keys / rows), since the quarantine keeps no row's period.
with loaded as (
    select
        case when grouping(load_id) = 0 then 'submission' else 'period' end as grain,
        load_id,
        period,
        count(distinct entity_key) as n_keys,
        count(*) as n_rows
    from quality_rows
    group by grouping sets ((load_id), (is_current, period))
    having grouping(load_id) = 0 or is_current
),

quarantined as (
    select
        load_id,
        is_current,
        count(distinct row_number) as n_rows,
        count(distinct row_number) filter (where rule = 'duplicate_key') as n_duplicates
    from quality_quarantine
    where entity = getvariable('quality_entity')
    group by load_id, is_current
),

submissions as (
    select
        'submission' as grain,
        loads.load_id,
        null::integer as period,
        loads.is_current,
        coalesce(loaded.n_keys, 0) + coalesce(quarantined.n_rows, 0)
            - coalesce(quarantined.n_duplicates, 0) as n_unique,
        coalesce(loaded.n_rows, 0) + coalesce(quarantined.n_rows, 0) as n_rows
    from quality_loads as loads  -- every load, also one whose rows were all quarantined
    left join loaded on loaded.grain = 'submission' and loaded.load_id = loads.load_id
    left join quarantined on quarantined.load_id = loads.load_id
    where loads.entity = getvariable('quality_entity')
),

entity as (
    select 'entity' as grain, null::varchar as load_id, null::integer as period,
        sum(n_unique) as n_unique, sum(n_rows) as n_rows
    from submissions
    where is_current
    having count(*) > 0  -- an entity never loaded has no figure
),

periods as (
    select grain, load_id, period, n_keys as n_unique, n_rows
    from loaded
    where grain = 'period' and period is not null
),

counts as (
    select * exclude (is_current) from submissions
    union all select * from entity
    union all select * from periods
)

select
    getvariable('quality_entity') as entity,
    grain,
    load_id,
    case when period is not null then 'year' end as period_type,
    period,
    'uniqueness' as dimension,
    null as detail,
    n_unique as numerator,
    n_rows as denominator,
    n_unique / nullif(n_rows, 0) as value,
    'share' as unit
from counts
