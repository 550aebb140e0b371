-- Every load's rows are either in its raw table or in the quarantine: nothing is lost.
with loaded as (
    select _load_id as load_id, count(*) as n from raw.macro group by 1
    union all select _load_id, count(*) from raw.programs group by 1
    union all select _load_id, count(*) from raw.firms group by 1
    union all select _load_id, count(*) from raw.program_budgets group by 1
    union all select _load_id, count(*) from raw.participations group by 1
    union all select _load_id, count(*) from raw.comparison_sample group by 1
    union all select _load_id, count(*) from raw.outcomes group by 1
    union all select _load_id, count(*) from raw.targets group by 1
    union all select _load_id, count(*) from raw.client_survey group by 1
),

quarantined as (
    select load_id, count(distinct row_number) as n from meta.quarantine group by 1
),

final as (
    select loads.load_id, loads.entity, loads.rows_in, loaded.n as in_raw, quarantined.n as in_quarantine
    from meta.loads as loads
    left join loaded using (load_id)
    left join quarantined using (load_id)
    where loads.rows_in != coalesce(loaded.n, 0) + coalesce(quarantined.n, 0)
        or loads.rows_loaded != coalesce(loaded.n, 0)
)

select * from final
