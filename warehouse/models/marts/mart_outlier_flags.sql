-- Outliers flagged, not rejected: year-on-year log growth of sales and employment that is
-- far from what firms of the same sector and size class did that year. Robust z-score:
-- (growth - median) / (1.4826 x MAD), so a few wild values cannot hide themselves by
-- inflating the spread. The threshold is the run's `outlier_z` setting.
with panel as (
    select distinct firm_id, year, sector, size_class, log_sales, log_employment
    from marts.mart_evaluation_panel
),

growth as (
    select
        firm_id,
        year,
        sector,
        size_class,
        unnest([
            {'outcome': 'log_sales',
             'growth': case when year - lag(year) over w = 1 then log_sales - lag(log_sales) over w end},
            {'outcome': 'log_employment',
             'growth': case when year - lag(year) over w = 1 then log_employment - lag(log_employment) over w end}
        ], recursive := true)
    from panel
    window w as (partition by firm_id order by year)
),

centre as (
    select sector, size_class, year, outcome, median(growth) as median_growth
    from growth
    where growth is not null
    group by all
),

spread as (
    select growth.sector, growth.size_class, growth.year, growth.outcome,
        median(abs(growth.growth - centre.median_growth)) as mad
    from growth
    inner join centre using (sector, size_class, year, outcome)
    where growth.growth is not null
    group by all
),

final as (
    select
        growth.firm_id,
        growth.year,
        growth.outcome,
        growth.sector,
        growth.size_class,
        growth.growth,
        centre.median_growth,
        (growth.growth - centre.median_growth) / nullif(1.4826 * spread.mad, 0) as robust_z,
        abs((growth.growth - centre.median_growth) / nullif(1.4826 * spread.mad, 0))
            > getvariable('outlier_z') as flagged
    from growth
    inner join centre using (sector, size_class, year, outcome)
    inner join spread using (sector, size_class, year, outcome)
    where growth.growth is not null
)

select * from final
