-- Accounting identity: cost per firm x firms served = total public cost.
with final as (
    select program_id, firms_served, public_cost_usd, public_cost_per_firm_usd
    from marts.mart_program_spending
    where firms_served > 0
        and abs(public_cost_per_firm_usd * firms_served - public_cost_usd) > 1e-6 * public_cost_usd
)

select * from final
