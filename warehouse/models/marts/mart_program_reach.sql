-- Reach by program and year: firms entering, firms served so far, and coverage of the
-- manufacturing firms of the program's country seen in the outcomes panel that year.
with treatment as (
    select * from staging.stg_treatment
),

programs as (
    select * from staging.stg_programs
),

outcomes as (
    select * from staging.stg_outcomes
),

years as (
    select distinct year from outcomes
),

population as (
    select country, year, count(distinct firm_id) as manufacturing_firms
    from outcomes
    where is_manufacturing
    group by country, year
),

entering as (
    select program_id, cohort as year, count(*) as firms_entering
    from treatment
    group by program_id, cohort
),

program_years as (
    select programs.program_id, programs.country, years.year
    from programs
    cross join years
    where years.year >= programs.start_year
),

final as (
    select
        program_years.program_id,
        program_years.year,
        coalesce(entering.firms_entering, 0) as firms_entering,
        sum(coalesce(entering.firms_entering, 0)) over (
            partition by program_years.program_id order by program_years.year
        ) as firms_served_to_date,
        population.manufacturing_firms,
        100.0 * firms_served_to_date / nullif(population.manufacturing_firms, 0) as coverage_pct
    from program_years
    left join entering using (program_id, year)
    left join population using (country, year)
)

select * from final
order by program_id, year
