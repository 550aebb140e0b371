-- Firms with their ISIC division; the agency-declared extra columns of firms are filled in
-- at the marker by warehouse/models.py.
with firms as (
    select * from raw.firms
    where _superseded_by is null  -- current rows only: later submissions supersede earlier ones
),

final as (
    select
        firm_id,
        country,
        region,
        isic4,
        cast(left(isic4, 2) as integer) as isic_division,
        cast(left(isic4, 2) as integer) between 10 and 33 as is_manufacturing,
        founded_year
        /* extra_columns(firms) */
    from firms
)

select * from final
