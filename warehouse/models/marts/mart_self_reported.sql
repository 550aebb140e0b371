-- Gross, self-reported results per program (MEP style), to set beside the estimated ones.
with survey as (
    select * from staging.stg_client_survey
),

treatment as (
    select * from staging.stg_treatment
),

final as (
    select
        survey.program_id,
        count(distinct survey.firm_id) as respondents,
        sum(survey.new_sales_usd) as new_sales_usd,
        sum(survey.retained_sales_usd) as retained_sales_usd,
        sum(survey.jobs_created) as jobs_created,
        sum(survey.jobs_retained) as jobs_retained,
        sum(survey.cost_savings_usd) as cost_savings_usd,
        sum(survey.investment_usd) as investment_usd,
        -- public cost of the firms that answered, so ratios compare like with like
        sum(treatment.public_cost_usd) as respondents_public_cost_usd
    from survey
    inner join treatment using (firm_id, program_id)
    group by survey.program_id
)

select * from final
