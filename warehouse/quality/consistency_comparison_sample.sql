-- Cross-entity checks on the comparison sample: known firm and program, same country, and
-- not a beneficiary of the program it is a comparison for.
with firms as (
    select firm_id, any_value(country) as country
    from raw.firms
    where _superseded_by is null
    group by firm_id  -- one row per firm even if the firms table has duplicates
),

programs as (
    select program_id, any_value(country) as country
    from raw.programs
    where _superseded_by is null
    group by program_id
),

beneficiaries as (
    select distinct firm_id, program_id from raw.participations where _superseded_by is null
)

select
    sample.load_id,
    sample.is_current,
    sample.period,
    firms.firm_id is not null as known_firm,
    programs.program_id is not null as known_program,
    coalesce(firms.country = programs.country, false) as same_country,
    beneficiaries.firm_id is null as not_a_beneficiary
from quality_rows as sample  -- the entity's rows (see entity_rows.sql)
left join firms on firms.firm_id = sample.firm_id
left join programs on programs.program_id = sample.program_id
left join beneficiaries
    on beneficiaries.firm_id = sample.firm_id and beneficiaries.program_id = sample.program_id
