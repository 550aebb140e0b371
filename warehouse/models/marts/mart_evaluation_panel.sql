-- The panel each program is evaluated on: its beneficiaries (cohort = entry year) and its
-- comparison sample (cohort 0), with every outcome of the evaluation design and the
-- attributes subgroups are cut by. Comparison firms that joined any program are left
-- out, so the comparison group is never treated.
with treatment as (
    select * from staging.stg_treatment
),

comparison as (
    select distinct firm_id, program_id
    from raw.comparison_sample
    where _superseded_by is null
        and firm_id not in (select firm_id from treatment)
),

outcomes as (
    select * from staging.stg_outcomes
),

firms as (
    select * from staging.stg_firms
),

units as (
    select program_id, firm_id, cohort, public_cost_usd from treatment
    union all
    select program_id, firm_id, 0 as cohort, 0.0 as public_cost_usd from comparison
),

-- size class from the firm's first observed employment: before entry for beneficiaries
first_size as (
    select firm_id, arg_min(employment, year) as baseline_employment
    from outcomes
    where employment is not null
    group by firm_id
),

final as (
    select
        units.program_id,
        units.firm_id,
        outcomes.year,
        units.cohort,
        units.public_cost_usd,
        outcomes.log_sales,
        outcomes.log_employment,
        case when outcomes.employment > 0 and outcomes.wage_bill_usd > 0
            then ln(outcomes.wage_bill_usd / outcomes.employment) end as log_wage_per_worker,
        case when outcomes.employment > 0 and outcomes.value_added_usd > 0
            then ln(outcomes.value_added_usd / outcomes.employment) end as log_va_per_worker,
        case when outcomes.exports_usd is not null
            then cast(outcomes.exports_usd > 0 as double) end as exporter,
        case when outcomes.sales_usd > 0 then outcomes.rd_spend_usd / outcomes.sales_usd end as rd_intensity,
        -- every outcome column in levels (money in constant USD), and the columns the
        -- agency declared, so that evaluation.outcomes can build the configured outcomes
        outcomes.* exclude (
            firm_id, year, country, isic_division, is_manufacturing,
            log_sales, log_employment, is_exporter
        ),
        case
            when first_size.baseline_employment < 10 then 'micro (<10)'
            when first_size.baseline_employment < 50 then 'small (10-49)'
            when first_size.baseline_employment < 250 then 'medium (50-249)'
            else 'large (250+)'
        end as size_class,
        case
            when firms.isic_division between 10 and 12 then 'food, beverages, tobacco'
            when firms.isic_division between 13 and 15 then 'textiles, apparel, leather'
            when firms.isic_division between 16 and 18 then 'wood, paper, printing'
            when firms.isic_division between 19 and 23 then 'chemicals, plastics, minerals'
            when firms.isic_division between 24 and 25 then 'metals and metal products'
            when firms.isic_division between 26 and 30 then 'machinery, electronics, vehicles'
            when firms.isic_division between 31 and 33 then 'furniture, other, repair'
            else 'non-manufacturing'
        end as sector,
        coalesce(firms.region, 'unknown') as region,
        firms.country,
        firms.founded_year,
        -- firm attributes the agency declared (covariates, exact-match cells, subgroups)
        firms.* exclude (
            firm_id, country, region, isic4, isic_division, is_manufacturing, founded_year
        )
    from units
    inner join outcomes using (firm_id)
    inner join firms using (firm_id)
    left join first_size using (firm_id)
)

select * from final
