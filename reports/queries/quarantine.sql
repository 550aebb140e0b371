-- Quarantined input rows by entity and rule, and per entity (a row can break several rules,
-- so the entity's total counts distinct rows).
with rows as (
    select distinct load_id, row_number, entity, rule from meta.quarantine
),

by_rule as (
    select entity, rule, count(*) as rows, false as is_total
    from rows
    group by entity, rule
),

by_entity as (
    select entity, 'total' as rule, count(distinct (load_id, row_number)) as rows, true as is_total
    from rows
    group by entity
)

select * from by_rule
union all
select * from by_entity
order by entity, is_total, rule
