-- Cross-entity checks on outcomes rows (all rows; the scorecard splits current and not).
-- A check on a missing value passes: completeness reports missing values separately.
with firms as (
    select firm_id, any_value(country) as country, any_value(founded_year) as founded_year
    from raw.firms
    where _superseded_by is null
    group by firm_id  -- one row per firm even if the firms table has duplicates
),

macro as (
    select distinct country, year from raw.macro where _superseded_by is null
)

select
    outcomes.load_id,
    outcomes.is_current,
    outcomes.period,
    firms.firm_id is not null as known_firm,
    coalesce(outcomes.value_added <= outcomes.sales, true) as value_added_le_sales,
    coalesce(outcomes.exports <= outcomes.sales, true) as exports_le_sales,
    coalesce(outcomes.year >= firms.founded_year, true) as not_before_founding,
    macro.country is not null as macro_covers_country_year
from quality_rows as outcomes  -- the entity's rows (see entity_rows.sql)
left join firms on firms.firm_id = outcomes.firm_id
left join macro on macro.country = firms.country and macro.year = outcomes.year
