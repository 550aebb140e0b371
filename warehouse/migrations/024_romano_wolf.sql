-- Family-wise error control over each program's family of outcomes (evaluation/multiple.py
-- romano_wolf): on the same rows as the q-values of migration 018 (the whole-sample
-- Callaway-Sant'Anna simple effect of each outcome, estimated units), the Romano-Wolf
-- step-down adjusted p-value, from the multiplier bootstrap of the outcomes' influence
-- functions (one weight per firm and draw, shared by the outcomes). Null on every other
-- row, on units not estimated, and on rows stored before this migration.
alter table results.estimates add column pvalue_rw double;
