-- Mean year-on-year growth (difference of logs) of beneficiaries and of their comparison
-- group, by program and year. A description, not an impact estimate: beneficiaries are
-- selected, so the gap between the two lines is not the program's effect.
with panel as (
    select * from marts.mart_evaluation_panel
),

growth as (
    select
        program_id,
        firm_id,
        year,
        case when cohort = 0 then 'comparison' else 'beneficiaries' end as firm_group,
        -- growth only between consecutive years, so a gap in the panel is not read as one year
        case when year - lag(year) over firm_years = 1
            then log_sales - lag(log_sales) over firm_years end as sales_growth,
        case when year - lag(year) over firm_years = 1
            then log_employment - lag(log_employment) over firm_years end as employment_growth
    from panel
    window firm_years as (partition by program_id, firm_id order by year)
),

final as (
    select
        program_id,
        firm_group,
        year,
        count(*) as firms,
        avg(sales_growth) as mean_sales_growth,
        avg(employment_growth) as mean_employment_growth
    from growth
    where sales_growth is not null or employment_growth is not null
    group by program_id, firm_group, year
)

select * from final
order by program_id, firm_group, year
