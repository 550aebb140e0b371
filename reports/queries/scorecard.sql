-- The data-quality scorecard of the run (or, when the run computed none, of the latest run
-- that did); period rows only up to the edition's year.
with chosen as (
    select coalesce(
        (select any_value(run_id) from meta.scorecard where run_id = $run_id),
        (select arg_max(run_id, computed_at) from meta.scorecard)
    ) as run_id
)

select run_id, entity, grain, load_id, period_type, period, dimension, detail,
    numerator, denominator, value, unit, computed_at
from meta.scorecard
where run_id = (select run_id from chosen)
    and (grain <> 'period' or period <= $year)
order by entity, grain, dimension, detail, period
