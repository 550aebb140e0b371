-- Cross-entity checks on targets: set for a beneficiary of the program, on an outcome
-- column, and due after the firm entered.
with entries as (
    select firm_id, program_id, min(start_date) as entry_date
    from raw.participations
    where _superseded_by is null
    group by firm_id, program_id
)

select
    targets.load_id,
    targets.is_current,
    targets.period,
    entries.firm_id is not null as firm_is_beneficiary,
    targets.metric in (
        'employment', 'sales', 'wage_bill', 'exports', 'value_added', 'rd_spend',
        'training_spend', 'capital'
    ) as metric_is_outcome,
    coalesce(targets.due_date >= entries.entry_date, false) as due_after_entry
from quality_rows as targets  -- the entity's rows (see entity_rows.sql)
left join entries on entries.firm_id = targets.firm_id and entries.program_id = targets.program_id
