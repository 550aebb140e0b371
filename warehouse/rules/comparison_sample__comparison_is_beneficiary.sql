-- reason: a comparison firm may not be a beneficiary of the same program
select
    incoming._row_number as row_number,
    'firm_id' as column_name,
    incoming.firm_id as value
from incoming
where exists (
    select 1
    from raw.participations as participations
    where participations._superseded_by is null
        and participations.firm_id = incoming.firm_id
        and participations.program_id = incoming.program_id
)
