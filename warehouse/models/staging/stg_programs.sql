with programs as (
    select * from raw.programs
    where _superseded_by is null  -- current rows only: later submissions supersede earlier ones
),

final as (
    select
        program_id, agency, country, name, pillar, instrument, currency,
        start_year, end_year, market_failure, targeting,
        expected_short, expected_medium, expected_long
    from programs
)

select * from final
