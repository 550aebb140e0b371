-- The quarantine as the scorecard counts it (the view quality_quarantine): one row per
-- quarantined input row, rule and failing column (a rule over several columns, such as a
-- duplicate key, counts against each of them), with `is_current`: whether its load's
-- quarantine stands now (meta.load_supersession, migration 019, as
-- reports/queries/quarantine.sql counts it). Rows the agency itself left out (rule
-- dropped_by_decision) are left out whole: a decision is not a data-quality failure, so
-- such a row is neither submitted nor failing.
with dropped as (
    select distinct load_id, row_number
    from meta.quarantine
    where rule = 'dropped_by_decision'
)

select
    quarantine.entity,
    quarantine.load_id,
    quarantine.row_number,
    quarantine.rule,
    trim(failing.column_name) as column_name,
    loads.superseded_by is null as is_current,
    quarantine.record
from meta.quarantine as quarantine
inner join meta.load_supersession as loads on loads.load_id = quarantine.load_id,
    unnest(string_split(coalesce(quarantine.column_name, ''), ',')) as failing(column_name)
where not exists (
    select 1
    from dropped
    where dropped.load_id = quarantine.load_id and dropped.row_number = quarantine.row_number
)
