-- Panel attrition: the share of firms observed in one period that are not observed in the
-- next. Outcomes (current rows): firms with a row in year t-1 and none in year t, for all
-- firms, beneficiaries (any current participation) and comparison firms (in the comparison
-- sample); period = t, entity grain = every pair of consecutive years pooled. The comparison
-- sample: firms of a program's wave w-1 absent from its wave w, period = w.
with outcome_years as (
    select distinct firm_id, year from raw.outcomes where _superseded_by is null
),

years as (
    select distinct year from outcome_years
),

groups as (
    select distinct firm_id, 'beneficiaries' as firm_group
    from raw.participations where _superseded_by is null
    union all
    select distinct firm_id, 'comparison' from raw.comparison_sample where _superseded_by is null
),

outcome_pairs as (
    select
        previous.firm_id,
        previous.year + 1 as period,
        current.firm_id is null as attrited
    from outcome_years as previous
    left join outcome_years as current
        on current.firm_id = previous.firm_id and current.year = previous.year + 1
    where previous.year + 1 in (select year from years)  -- the last year has no next year
),

outcome_grouped as (
    select 'all' as firm_group, period, attrited from outcome_pairs
    union all
    select groups.firm_group, outcome_pairs.period, outcome_pairs.attrited
    from outcome_pairs
    join groups using (firm_id)
),

sample_waves as (
    select distinct firm_id, program_id, wave
    from raw.comparison_sample where _superseded_by is null
),

sample_pairs as (
    select
        previous.wave + 1 as period,
        current.firm_id is null as attrited
    from sample_waves as previous
    left join sample_waves as current
        on current.firm_id = previous.firm_id
        and current.program_id = previous.program_id
        and current.wave = previous.wave + 1
    where previous.wave + 1 in (select distinct wave from sample_waves)
),

counts as (
    select 'outcomes' as entity, 'year' as period_type, firm_group, period,
        count_if(attrited) as n_attrited, count(*) as n_observed
    from outcome_grouped
    group by grouping sets ((firm_group), (firm_group, period))
    union all
    select 'comparison_sample', 'wave', 'all', period, count_if(attrited), count(*)
    from sample_pairs
    group by grouping sets ((), (period))
)

select
    entity,
    case when period is null then 'entity' else 'period' end as grain,
    null::varchar as load_id,
    case when period is not null then period_type end as period_type,
    period,
    'attrition' as dimension,
    case when firm_group != 'all' then firm_group end as detail,
    n_attrited as numerator,
    n_observed as denominator,
    n_attrited / nullif(n_observed, 0) as value,
    'share' as unit
from counts
where n_observed > 0  -- a grouping set over no rows still yields a row
