-- reason: value_added is larger than sales
select
    _row_number as row_number,
    'value_added' as column_name,
    value_added::varchar || ' > sales ' || sales::varchar as value
from incoming
where value_added > sales
