-- Cross-entity checks on programs: macro data exist for the country (money is converted
-- with them) and the program does not end before it starts.
with macro as (
    select distinct country from raw.macro where _superseded_by is null
)

select
    programs.load_id,
    programs.is_current,
    programs.period,
    macro.country is not null as macro_covers_country,
    coalesce(programs.end_year >= programs.start_year, true) as ends_after_start
from quality_rows as programs  -- the entity's rows (see entity_rows.sql)
left join macro on macro.country = programs.country
