-- Program budgets as a share of GDP (the report compares Brazil 0.084%, Mexico 0.061%...).
with budgets as (
    select * from raw.program_budgets
    where _superseded_by is null  -- current rows only: later submissions supersede earlier ones
),

programs as (
    select * from staging.stg_programs
),

macro as (
    select * from staging.stg_macro
),

final as (
    select
        budgets.program_id,
        programs.country,
        budgets.year,
        budgets.public_budget * macro.usd_constant_factor as public_budget_usd,
        budgets.admin_cost * macro.usd_constant_factor as admin_cost_usd,
        100.0 * budgets.public_budget / macro.gdp as budget_share_gdp_pct
    from budgets
    inner join programs using (program_id)
    inner join macro on macro.country = programs.country and macro.year = budgets.year
)

select * from final
order by program_id, year
