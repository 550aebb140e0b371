-- One row per beneficiary and program: the entry cohort is the year of the first service.
with participations as (
    select * from staging.stg_participations
),

final as (
    select
        firm_id,
        program_id,
        min(entry_year) as cohort,
        count(*) as services,
        sum(public_cost_usd) as public_cost_usd,
        sum(firm_contribution_usd) as firm_contribution_usd
    from participations
    group by firm_id, program_id
)

select * from final
