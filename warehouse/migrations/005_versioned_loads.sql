-- Versioned loads: a corrected re-submission supersedes the rows of the keys it covers,
-- and the superseded rows stay, so any earlier state of the warehouse can be rebuilt.

alter table meta.loads add column sequence bigint;
alter table meta.loads add column rows_superseded bigint default 0;
update meta.loads set sequence = ordered.n
from (select load_id, row_number() over (order by loaded_at, load_id) as n from meta.loads) as ordered
where meta.loads.load_id = ordered.load_id;

-- _superseded_by: the load whose rows replaced this one (null = current)
alter table raw.macro add column _superseded_by varchar;
alter table raw.programs add column _superseded_by varchar;
alter table raw.firms add column _superseded_by varchar;
alter table raw.program_budgets add column _superseded_by varchar;
alter table raw.participations add column _superseded_by varchar;
alter table raw.comparison_sample add column _superseded_by varchar;
alter table raw.outcomes add column _superseded_by varchar;
alter table raw.targets add column _superseded_by varchar;
alter table raw.client_survey add column _superseded_by varchar;
