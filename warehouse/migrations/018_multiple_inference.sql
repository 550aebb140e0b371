-- Multiple inference over each program's family of outcomes (evaluation/multiple.py): on
-- the whole-sample Callaway-Sant'Anna simple effect of each outcome (aggregation 'simple',
-- subgroup 'all', estimated units), the two-sided p-value of a zero effect (normal, from
-- estimate / std_error) and the sharpened q-value of Benjamini, Krieger and Yekutieli
-- (2006) within the program's outcomes, as Anderson (2008) computes it. Null on every
-- other row, on units not estimated, and on rows stored before this migration.
alter table results.estimates add column pvalue double;
alter table results.estimates add column qvalue double;
