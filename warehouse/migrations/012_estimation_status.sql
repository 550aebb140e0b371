-- A run publishes what it can: every unit of estimation (program x outcome x subgroup x
-- estimator, and each return/cost figure) is stored, estimated or not. A unit that could
-- not be estimated keeps its row with a null estimate, a status and a reason, so the
-- reports show the reason where the number would be (evaluation/reasons.py lists them).
--   status        estimated | not_estimated (the design lacks what it needs: too few firms,
--                 no comparison group...) | not_estimable (the data cannot identify it:
--                 an outcome constant within firms...)
--   reason        reason code (evaluation.reasons.REASONS), null when estimated
--   reason_params JSON of the numbers in the reason (counts, thresholds, names)
--   note          the reason in English, for readers of the warehouse and the CLI
alter table results.estimates add column status varchar default 'estimated';
alter table results.estimates add column reason varchar;
alter table results.estimates add column reason_params json;
alter table results.estimates add column note varchar;
-- why the pre-entry (parallel trends) test was not run, when pretrend_passes is null
alter table results.estimates add column pretrend_reason varchar;
alter table results.estimates add column pretrend_reason_params json;
-- display unit of the outcome's effects: pct (log outcomes), pp (shares and indicators),
-- jobs (employment in levels), usd (money in levels), level (other levels)
alter table results.estimates add column unit varchar;

alter table results.roi add column status varchar default 'estimated';
alter table results.roi add column reason varchar;
alter table results.roi add column reason_params json;
alter table results.roi add column note varchar;

-- matching: a covariate dropped before the propensity score (constant, or collinear with
-- the others), kept in the balance table with the reason
alter table results.balance add column dropped varchar;
