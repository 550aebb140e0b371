-- Firms behind each event-time and each cohort effect of a run. Aggregations average the
-- group-time cells ATT(g, t), so the treated firms behind an event-time effect are the sum
-- of its cells' counts over cohorts, those behind a cohort effect its largest post-entry
-- cell, and the comparison firms in either case those of the thinnest cell.
with cells as (
    select * from results.att_gt
    where run_id = $run_id and att is not null
),

by_event_time as (
    select
        program_id, outcome, 'event_time' as aggregation, event_time as key,
        sum(n_treated) as firms, min(n_control) as control
    from cells
    group by program_id, outcome, event_time
),

by_cohort as (
    select
        program_id, outcome, 'cohort' as aggregation, cohort as key,
        max(n_treated) as firms, min(n_control) as control
    from cells
    where event_time >= 0
    group by program_id, outcome, cohort
)

select * from by_event_time
union all
select * from by_cohort
