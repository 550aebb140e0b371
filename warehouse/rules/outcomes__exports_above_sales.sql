-- reason: exports are larger than sales
select
    _row_number as row_number,
    'exports' as column_name,
    exports::varchar || ' > sales ' || sales::varchar as value
from incoming
where exports > sales
