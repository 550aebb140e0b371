-- Beneficiary spells with money in constant US dollars. Program money is converted with
-- the macro row of the program's country in the year the service started.
with participations as (
    select * from raw.participations
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
        participations.firm_id,
        participations.program_id,
        participations.service,
        participations.start_date,
        participations.end_date,
        year(participations.start_date) as entry_year,
        programs.country as program_country,
        participations.public_cost * macro.usd_constant_factor as public_cost_usd,
        participations.firm_contribution * macro.usd_constant_factor as firm_contribution_usd
    from participations
    inner join programs using (program_id)
    left join macro
        on macro.country = programs.country
        and macro.year = year(participations.start_date)
)

select * from final
