-- Self-reported (gross) client survey figures, money in constant USD of the program's
-- country in the survey year.
with survey as (
    select * from raw.client_survey
    where _superseded_by is null  -- current rows only: later submissions supersede earlier ones
),

programs as (
    select * from staging.stg_programs
),

macro as (
    select * from staging.stg_macro
),

final as (
    select
        survey.firm_id,
        survey.program_id,
        survey.survey_date,
        survey.new_sales * macro.usd_constant_factor as new_sales_usd,
        survey.retained_sales * macro.usd_constant_factor as retained_sales_usd,
        survey.jobs_created,
        survey.jobs_retained,
        survey.cost_savings * macro.usd_constant_factor as cost_savings_usd,
        survey.investment * macro.usd_constant_factor as investment_usd
    from survey
    inner join programs using (program_id)
    left join macro on macro.country = programs.country and macro.year = year(survey.survey_date)
)

select * from final
