-- Cross-entity checks on program budgets: known program, a year inside the program's
-- years, and administrative cost within the budget.
with programs as (
    select program_id, any_value(start_year) as start_year, any_value(end_year) as end_year
    from raw.programs
    where _superseded_by is null
    group by program_id
)

select
    budgets.load_id,
    budgets.is_current,
    budgets.period,
    programs.program_id is not null as known_program,
    coalesce(
        budgets.year between programs.start_year and coalesce(programs.end_year, 9999), false
    ) as within_program_years,
    coalesce(budgets.admin_cost <= budgets.public_budget, true) as admin_cost_le_budget
from quality_rows as budgets  -- the entity's rows (see entity_rows.sql)
left join programs on programs.program_id = budgets.program_id
