-- The changelog of the agency's decisions (meta.decisions, warehouse/decisions.py) that
-- stand now: those recorded on each file's current load (meta.load_supersession, the same
-- rule the quarantine counts follow), with who took each, when and why, and whether it
-- still matched the file (status `unmatched`: `detail` says what the file has instead).
-- Internal editions only: rows, values and pseudonyms of firms.
select
    decisions.entity,
    decisions.source_file,
    decisions.row_number,
    decisions.firm_id,
    decisions.year,
    decisions.action,
    decisions.column_name,
    decisions.old_value,
    decisions.new_value,
    decisions.status,
    decisions.detail,
    decisions.decided_by,
    decisions.decided_on,
    decisions.reason,
    decisions.recorded_at
from meta.decisions as decisions
inner join meta.load_supersession as loads on decisions.load_id = loads.load_id
where loads.superseded_by is null
order by decisions.entity, decisions.source_file, decisions.row_number, decisions.action
