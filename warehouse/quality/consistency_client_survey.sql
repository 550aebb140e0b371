-- Cross-entity checks on the client survey: the respondent is a beneficiary of the program
-- and was surveyed after entering it.
with entries as (
    select firm_id, program_id, min(start_date) as entry_date
    from raw.participations
    where _superseded_by is null
    group by firm_id, program_id
)

select
    survey.load_id,
    survey.is_current,
    survey.period,
    entries.firm_id is not null as respondent_is_beneficiary,
    coalesce(survey.survey_date >= entries.entry_date, false) as surveyed_after_entry
from quality_rows as survey  -- the entity's rows (see entity_rows.sql)
left join entries on entries.firm_id = survey.firm_id and entries.program_id = survey.program_id
