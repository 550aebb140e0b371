-- Return per dollar and cost per job on two scales, each with its own parallel-trends
-- assumption and pre-entry test: 'log' (effects on log outcomes applied to the
-- beneficiaries' observed levels) and 'level' (effects on levels). One of the two is
-- `shown`; `scale_choice` says why (evaluation.roi.SCALE_CHOICES). Self-reported figures
-- have no scale and are always shown.
alter table results.roi add column scale varchar;
alter table results.roi add column shown boolean default true;
alter table results.roi add column scale_choice varchar;
alter table results.roi add column pretrend_pvalue double;
alter table results.roi add column pretrend_passes boolean;
alter table results.roi add column pretrend_reason varchar;
alter table results.roi add column pretrend_reason_params json;
