-- Every quarantined record (one per input row and rule it broke) with the load it came
-- from, newest load first; `superseded_by` is the sequence of the later load that
-- superseded its load's quarantine (null: current). A later load of the same entity
-- supersedes an earlier one's quarantine when it read the same file name (a re-submission
-- is the whole file again) or the same content (re-validated once its references changed,
-- warehouse.load.references_changed): its own quarantine is what stands now. Loads of
-- other files (a new quarter's outcomes) supersede nothing here (meta.load_supersession,
-- migration 019; quarantine.sql counts with it too). Optional filters: $entity, $rule,
-- $source_file (null: all).
select
    quarantine.entity,
    quarantine.source_file,
    loads.sequence as load_sequence,
    loads.loaded_at,
    quarantine.row_number,
    quarantine.column_name,
    quarantine.rule,
    quarantine.value,
    quarantine.reason,
    loads.superseded_by
from meta.quarantine as quarantine
inner join meta.load_supersession as loads on quarantine.load_id = loads.load_id
where ($entity::varchar is null or quarantine.entity = $entity)
    and ($rule::varchar is null or quarantine.rule = $rule)
    and ($source_file::varchar is null or quarantine.source_file = $source_file)
order by loads.sequence desc, quarantine.row_number, quarantine.column_name, quarantine.rule
