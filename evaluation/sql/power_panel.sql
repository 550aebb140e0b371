-- The rows a power calculation needs: each program's firms (cohort = entry year, 0 for the
-- comparison sample) and years, with one outcome ({outcome}, a quoted column name).
-- Rows with an empty outcome are kept: they tell a firm's years alive from the years its
-- outcome is missing, which is how attrition is measured.
select
    program_id,
    firm_id,
    year,
    coalesce(cohort, 0) as cohort,
    cast({outcome} as double) as outcome
from marts.mart_evaluation_panel
where $program is null or program_id = $program
order by program_id, firm_id, year
