-- reason: wage bill per employee is more than 20 times away from the median of the firm's country and year in this file, and more than 5 times away from the median of the firm's other years in it (or the firm has no other year)
-- A firm that is at such a level every year (a holding paying its managers only, a
-- cooperative counting members as employees) is consistent with itself: it stays loaded
-- and marts.mart_outlier_flags flags it (rule wage_per_worker_level) for a person to look
-- at, rather than leaving a hole in its panel. A single year far from both its peers and
-- its own other years is the slip this rule is for (a wage bill in thousands, a count of
-- employees in the wrong column).
with per_worker as (
    select
        incoming._row_number,
        incoming.firm_id,
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
),

far_from_peers as (
    select per_worker.*
    from per_worker
    inner join medians using (country, year)
    where per_worker.wage_per_worker > 20 * medians.median_wage
        or per_worker.wage_per_worker < medians.median_wage / 20
),

own_years as (
    select far_from_peers._row_number, median(other.wage_per_worker) as own_median
    from far_from_peers
    inner join per_worker as other
        on other.firm_id = far_from_peers.firm_id and other.year != far_from_peers.year
    group by far_from_peers._row_number
)

select
    far_from_peers._row_number as row_number,
    'wage_bill' as column_name,
    round(far_from_peers.wage_per_worker, 2)::varchar || ' per employee' as value
from far_from_peers
left join own_years using (_row_number)
where own_years.own_median is null  -- no other year to be consistent with
    or far_from_peers.wage_per_worker > 5 * own_years.own_median
    or far_from_peers.wage_per_worker < own_years.own_median / 5
