-- The panel each program is evaluated on: its beneficiaries (cohort = entry year) and its
-- comparison sample (cohort 0). Comparison firms that joined any program are left out, so
-- the comparison group is never treated.
with treatment as (
    select * from staging.stg_treatment
),

comparison as (
    select distinct firm_id, program_id
    from raw.comparison_sample
    where firm_id not in (select firm_id from treatment)
),

outcomes as (
    select * from staging.stg_outcomes
),

units as (
    select program_id, firm_id, cohort from treatment
    union all
    select program_id, firm_id, 0 as cohort from comparison
),

final as (
    select
        units.program_id,
        units.firm_id,
        outcomes.year,
        units.cohort,
        outcomes.log_sales,
        outcomes.log_employment,
        outcomes.employment,
        outcomes.sales_usd
    from units
    inner join outcomes using (firm_id)
)

select * from final
