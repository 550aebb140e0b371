-- The international benchmarks programs are compared with (the report's Table 6).
select program, country, metric, outcome, value, unit, basis, period, source
from reference.benchmarks
order by metric, program
