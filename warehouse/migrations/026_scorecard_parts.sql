-- Which run computed each part of the data-quality scorecard, on which loads: a part (an
-- entity's completeness, validity, uniqueness, timeliness and consistency rows, or one
-- across-entities query: attrition, response_rate) whose tables' loads and code are
-- unchanged is copied from that run's meta.scorecard rows instead of computed again
-- (warehouse.quality.compute_scorecard). `fingerprint`: warehouse.load.loads_version of
-- the raw tables the part's SQL reads.
create table meta.scorecard_parts (
    part varchar primary key,
    fingerprint varchar not null,
    code_version varchar not null,
    run_id varchar not null        -- the run whose meta.scorecard rows hold it
);
