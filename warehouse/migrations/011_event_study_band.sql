-- Simultaneous (uniform) 95% band of the event study: covers every event-time effect of a
-- program and outcome at once (multiplier bootstrap, as did's cband). Set on the rows of
-- the dynamic aggregation of the headline outcomes; null elsewhere.
alter table results.estimates add column band_low double;
alter table results.estimates add column band_high double;
