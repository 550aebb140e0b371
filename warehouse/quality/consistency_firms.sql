-- Cross-entity checks on firms: macro data exist for the firm's country.
with macro as (
    select distinct country from raw.macro where _superseded_by is null
)

select
    firms.load_id,
    firms.is_current,
    firms.period,
    macro.country is not null as macro_covers_country
from quality_rows as firms  -- the entity's rows (see entity_rows.sql)
left join macro on macro.country = firms.country
