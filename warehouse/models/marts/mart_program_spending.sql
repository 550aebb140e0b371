-- Spending per program: public cost per firm served, in constant US dollars.
with treatment as (
    select * from staging.stg_treatment
),

programs as (
    select * from staging.stg_programs
),

totals as (
    select
        program_id,
        count(*) as firms_served,
        sum(services) as services,
        sum(public_cost_usd) as public_cost_usd,
        sum(firm_contribution_usd) as firm_contribution_usd
    from treatment
    group by program_id
),

final as (
    select
        programs.program_id,
        programs.name,
        programs.country,
        programs.currency,
        coalesce(totals.firms_served, 0) as firms_served,
        coalesce(totals.services, 0) as services,
        totals.public_cost_usd,
        totals.public_cost_usd / nullif(totals.firms_served, 0) as public_cost_per_firm_usd,
        totals.firm_contribution_usd,
        totals.firm_contribution_usd
            / nullif(totals.public_cost_usd + totals.firm_contribution_usd, 0) as firm_share_of_cost
    from programs
    left join totals using (program_id)
)

select * from final
order by program_id
