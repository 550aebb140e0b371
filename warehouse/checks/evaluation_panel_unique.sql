-- One row per program, firm and year in the evaluation panel.
with final as (
    select program_id, firm_id, year, count(*) as n
    from marts.mart_evaluation_panel
    group by all
    having count(*) > 1
)

select * from final
