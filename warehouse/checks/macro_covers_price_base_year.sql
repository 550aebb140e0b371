-- Money can only be converted to constant USD for countries with a macro row in the base year.
with countries as (
    select country from raw.firms
    union
    select country from raw.programs
),

final as (
    select countries.country
    from countries
    where countries.country not in (select country from staging.stg_macro)
)

select * from final
