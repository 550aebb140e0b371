-- Cross-entity checks on participations: known firm and program, a program of the firm's
-- own country, and a start inside the program's years.
with firms as (
    select firm_id, any_value(country) as country
    from raw.firms
    where _superseded_by is null
    group by firm_id  -- one row per firm even if the firms table has duplicates
),

programs as (
    select program_id, any_value(country) as country, any_value(start_year) as start_year,
        any_value(end_year) as end_year
    from raw.programs
    where _superseded_by is null
    group by program_id
)

select
    participations.load_id,
    participations.is_current,
    participations.period,
    firms.firm_id is not null as known_firm,
    programs.program_id is not null as known_program,
    coalesce(firms.country = programs.country, false) as same_country,
    coalesce(
        year(participations.start_date) between programs.start_year
            and coalesce(programs.end_year, 9999),
        false
    ) as within_program_years
from quality_rows as participations  -- the entity's rows (see entity_rows.sql)
left join firms on firms.firm_id = participations.firm_id
left join programs on programs.program_id = participations.program_id
