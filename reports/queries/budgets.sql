-- Program budgets in constant USD and as a share of GDP, up to the edition's year.
-- Program-level money, not firm data: no disclosure rule applies.
select program_id, year, public_budget_usd, admin_cost_usd, budget_share_gdp_pct
from marts.mart_budget_share_gdp
where year <= $year
order by program_id, year
