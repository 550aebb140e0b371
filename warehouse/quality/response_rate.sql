-- Survey response rate: the share of a program's beneficiaries (current participations)
-- with at least one current client_survey row for that program; per program and for all
-- programs, by entry cohort (period = year of the firm's first start in the program) and
-- overall. Only when a client survey was ever submitted.
with entries as (
    select firm_id, program_id, year(min(start_date)) as cohort
    from raw.participations
    where _superseded_by is null
    group by firm_id, program_id
),

respondents as (
    select distinct firm_id, program_id from raw.client_survey where _superseded_by is null
),

answered as (
    select entries.program_id, entries.cohort, respondents.firm_id is not null as responded
    from entries
    left join respondents using (firm_id, program_id)
    where exists (select 1 from meta.loads where entity = 'client_survey')
),

counts as (
    select program_id, cohort, count_if(responded) as n_responded, count(*) as n_beneficiaries
    from answered
    group by grouping sets ((), (cohort), (program_id), (program_id, cohort))
)

select
    'client_survey' as entity,
    case when cohort is null then 'entity' else 'period' end as grain,
    null::varchar as load_id,
    case when cohort is not null then 'year' end as period_type,
    cohort as period,
    'response_rate' as dimension,
    program_id as detail,
    n_responded as numerator,
    n_beneficiaries as denominator,
    n_responded / nullif(n_beneficiaries, 0) as value,
    'share' as unit
from counts
where n_beneficiaries > 0  -- a grouping set over no rows still yields a row
