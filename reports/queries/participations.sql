-- Beneficiary spells that started on or before the edition's last day ($period_end), with
-- their public cost in constant USD: reach and spending are counted from start dates.
-- Size class, sector and region are the evaluation panel's (the cuts the subgroup
-- estimates use); beneficiaries the panel does not hold fall under 'unknown'.
with spells as (
    select firm_id, program_id, start_date, public_cost_usd
    from staging.stg_participations
    where start_date <= $period_end
),

attributes as (
    select
        program_id,
        firm_id,
        any_value(size_class) as size_class,
        any_value(sector) as sector,
        any_value(region) as region
    from marts.mart_evaluation_panel
    where cohort > 0
    group by program_id, firm_id
),

final as (
    select
        spells.program_id,
        spells.firm_id,
        spells.start_date,
        year(spells.start_date) as year,
        spells.public_cost_usd,
        coalesce(attributes.size_class, 'unknown') as size_class,
        coalesce(attributes.sector, 'unknown') as sector,
        coalesce(attributes.region, 'unknown') as region
    from spells
    left join attributes using (program_id, firm_id)
)

select * from final
order by program_id, start_date, firm_id
