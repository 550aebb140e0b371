-- Quarantined input rows by entity and rule, and per entity (a row can break several rules,
-- so the entity's total counts distinct rows), of the current loads only: a load whose file
-- (same name) or content was loaded again later for the entity (a re-submission, or a file
-- re-validated once its references changed) is superseded, and its quarantine with it;
-- counting both would count the same input row twice (meta.load_supersession, migration
-- 019, as `mes-eval quarantine` reads it).
with rows as (
    select distinct load_id, row_number, entity, rule
    from meta.quarantine
    where load_id in (select load_id from meta.load_supersession where superseded_by is null)
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
