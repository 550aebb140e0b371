-- The evaluation specification each program's estimates were made with (one JSON document
-- per program: programs may be configured differently).
select program_id, any_value(specification) as specification
from results.estimates
where run_id = $run_id and specification is not null
group by program_id
order by program_id
