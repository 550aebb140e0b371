-- Country-year factors that turn local currency at current prices into constant US dollars
-- of the price base year: deflate to base-year prices, then convert at the base-year rate.
with macro as (
    select * from raw.macro
    where _superseded_by is null  -- current rows only: later submissions supersede earlier ones
),

base as (
    select country, deflator as base_deflator, lcu_per_usd as base_lcu_per_usd
    from macro
    where year = getvariable('price_base_year')
),

final as (
    select
        macro.country,
        macro.year,
        macro.gdp,
        macro.deflator,
        macro.lcu_per_usd,
        (base.base_deflator / macro.deflator) / base.base_lcu_per_usd as usd_constant_factor,
        macro.gdp * (base.base_deflator / macro.deflator) / base.base_lcu_per_usd as gdp_usd
    from macro
    inner join base using (country)
)

select * from final
