-- The outliers flagged (marts.mart_outlier_flags, flagged rows only), most severe first
-- within each rule (|robust z| for growth, times away from the median for a wage level),
-- with their follow-up: the latest review of the firm, year and outcome in
-- meta.outlier_reviews (migration 021, filled from the corrections file's `outliers:`
-- section), or 'open' when there is none. Firm ids are the warehouse's pseudonyms, as the
-- corrections file names them. Internal editions only: it lists firms one by one.
with flags as (
    select firm_id, year, outcome, rule, growth, robust_z, ratio, severity
    from marts.mart_outlier_flags
    where flagged
),

reviews as (
    select firm_id, year, outcome, status, decided_by, decided_on, reason
    from meta.outlier_reviews
    qualify row_number() over (
        partition by firm_id, year, outcome order by recorded_at desc, decided_on desc nulls last
    ) = 1
)

select
    flags.rule,
    flags.outcome,
    flags.firm_id,
    flags.year,
    flags.severity,
    flags.robust_z,
    flags.ratio,
    coalesce(reviews.status, 'open') as status,
    reviews.decided_by,
    reviews.decided_on,
    reviews.reason
from flags
left join reviews using (firm_id, year, outcome)
order by flags.rule, flags.severity desc, flags.firm_id, flags.year, flags.outcome
