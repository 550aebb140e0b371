-- The program registry: rationale, market failure and targeting of each instrument.
select *
from staging.stg_programs
order by program_id
