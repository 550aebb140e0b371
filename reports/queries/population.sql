-- Manufacturing firms per country in the outcomes panel in the edition's year (or the
-- latest year before it): the population that coverage is measured against.
with latest as (
    select country, max(year) as year
    from staging.stg_outcomes
    where is_manufacturing and year <= $year
    group by country
),

final as (
    select outcomes.country, outcomes.year, count(distinct outcomes.firm_id) as manufacturing_firms
    from staging.stg_outcomes as outcomes
    inner join latest using (country, year)
    where outcomes.is_manufacturing
    group by outcomes.country, outcomes.year
)

select * from final
