-- Each beneficiary's self-reported gross results (client survey): the firm contributions
-- behind the self-reported ROI, which the dominance rule adds up.
with survey as (
    select * from staging.stg_client_survey
),

treatment as (
    select firm_id, program_id from staging.stg_treatment
),

final as (
    select
        survey.program_id,
        survey.firm_id,
        coalesce(survey.new_sales_usd, 0) + coalesce(survey.retained_sales_usd, 0) as sales_usd,
        coalesce(survey.jobs_created, 0) + coalesce(survey.jobs_retained, 0) as jobs
    from survey
    inner join treatment using (firm_id, program_id)
)

select * from final
