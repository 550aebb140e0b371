-- Every load as the scorecard counts it (the view quality_loads): rows submitted = rows in
-- less the rows the agency itself left out (rule dropped_by_decision in meta.quarantine,
-- not a data-quality failure), and `is_current`: whether its quarantine stands now
-- (meta.load_supersession, migration 019).
with dropped as (
    select load_id, count(distinct row_number) as n_rows
    from meta.quarantine
    where rule = 'dropped_by_decision'
    group by load_id
)

select
    loads.load_id,
    loads.entity,
    loads.rows_in,
    loads.rows_loaded,
    loads.rows_in - coalesce(dropped.n_rows, 0) as rows_submitted,
    supersession.superseded_by is null as is_current
from meta.loads as loads
inner join meta.load_supersession as supersession on supersession.load_id = loads.load_id
left join dropped on dropped.load_id = loads.load_id
