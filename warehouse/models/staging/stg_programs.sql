with programs as (
    select * from raw.programs
),

final as (
    select
        program_id, agency, country, name, pillar, instrument, currency,
        start_year, end_year, market_failure, targeting,
        expected_short, expected_medium, expected_long
    from programs
)

select * from final
