-- Per-program caching: each estimate records the hash of the inputs of its own program
-- (its rows of the evaluation panel, its self-reported results, the specification), so a
-- run re-estimates only the programs whose inputs changed and reuses the others' results.
alter table results.estimates add column input_version varchar;
