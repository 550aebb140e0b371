-- The rows of one entity, current and superseded, with what the scorecard groups them by.
-- A template: warehouse/quality.py fills in $entity, $period (the period expression, or
-- null), $key (the entity key as a row) and $columns (the contract columns) from
-- schemas/contract.py, and exposes the result as the view `quality_rows`.
select
    _load_id as load_id,
    _row_number as row_number,
    _superseded_by is null as is_current,  -- null = current: later loads supersede by key
    cast($period as integer) as period,
    $key as entity_key,
    $columns
from raw.$entity
