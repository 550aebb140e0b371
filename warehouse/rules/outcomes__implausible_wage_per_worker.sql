-- reason: wage bill per employee is more than 20 times away from the median of the firm's country and year in this file
with per_worker as (
    select
        incoming._row_number,
        incoming.year,
        firms.country,
        incoming.wage_bill / incoming.employment as wage_per_worker
    from incoming
    inner join raw.firms as firms
        on firms.firm_id = incoming.firm_id and firms._superseded_by is null
    where incoming.employment > 0 and incoming.wage_bill > 0
),

medians as (
    select country, year, median(wage_per_worker) as median_wage
    from per_worker
    group by country, year
    having count(*) >= 20  -- too few firms for a median to mean anything
)

select
    per_worker._row_number as row_number,
    'wage_bill' as column_name,
    round(per_worker.wage_per_worker, 2)::varchar || ' per employee' as value
from per_worker
inner join medians using (country, year)
where per_worker.wage_per_worker > 20 * medians.median_wage
    or per_worker.wage_per_worker < medians.median_wage / 20
