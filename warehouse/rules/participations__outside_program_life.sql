-- reason: start_date falls outside the program's life (start_year to end_year)
select
    incoming._row_number as row_number,
    'start_date' as column_name,
    cast(incoming.start_date as date)::varchar as value
from incoming
inner join raw.programs as programs
    on programs.program_id = incoming.program_id and programs._superseded_by is null
where year(incoming.start_date) < programs.start_year
    or (programs.end_year is not null and year(incoming.start_date) > programs.end_year)
