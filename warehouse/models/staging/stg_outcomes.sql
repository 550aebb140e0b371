-- The firm-year panel in constant US dollars, with the log outcomes the estimators use.
-- Logs are missing where the level is missing or not positive. The agency-declared extra
-- columns of outcomes are filled in at the extra_columns marker by warehouse/models.py,
-- money ones converted like sales (`<name> * usd_factor as <name>_usd`).
with outcomes as (
    select * from raw.outcomes
    where _superseded_by is null  -- current rows only: later submissions supersede earlier ones
),

firms as (
    select * from staging.stg_firms
),

macro as (
    select * from staging.stg_macro
),

converted as (
    select
        outcomes.firm_id,
        outcomes.year,
        firms.country,
        firms.isic_division,
        firms.is_manufacturing,
        outcomes.employment,
        outcomes.sales * macro.usd_constant_factor as sales_usd,
        outcomes.wage_bill * macro.usd_constant_factor as wage_bill_usd,
        outcomes.exports * macro.usd_constant_factor as exports_usd,
        outcomes.value_added * macro.usd_constant_factor as value_added_usd,
        outcomes.rd_spend * macro.usd_constant_factor as rd_spend_usd,
        outcomes.training_spend * macro.usd_constant_factor as training_spend_usd,
        outcomes.capital * macro.usd_constant_factor as capital_usd
        /* extra_columns(outcomes, usd_factor=macro.usd_constant_factor) */
    from outcomes
    inner join firms using (firm_id)
    left join macro on macro.country = firms.country and macro.year = outcomes.year
),

final as (
    select
        *,
        case when sales_usd > 0 then ln(sales_usd) end as log_sales,
        case when employment > 0 then ln(employment) end as log_employment,
        exports_usd > 0 as is_exporter
    from converted
)

select * from final
