-- The evaluation specification the run's estimates were made with (one JSON document).
select any_value(specification) as specification
from results.estimates
where run_id = $run_id and specification is not null
