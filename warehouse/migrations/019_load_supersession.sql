-- Which load's quarantine stands now. A later load of the same entity supersedes an
-- earlier one's quarantine when it read the same file name (a re-submission is the whole
-- file again) or the same content (re-validated once its references changed,
-- warehouse.load.references_changed); loads of other files (a new quarter's outcomes)
-- supersede nothing. `superseded_by`: the sequence of the first such later load (null:
-- current). Read by reports/queries/quarantine.sql (the report's counts) and
-- quarantine_rows.sql (`mes-eval quarantine`), so the two cannot drift apart.
create or replace view meta.load_supersession as
select
    loads.load_id,
    loads.entity,
    loads.sequence,
    loads.loaded_at,
    (
        select min(later.sequence)
        from meta.loads as later
        where later.entity = loads.entity
            and later.sequence > loads.sequence
            and (
                later.source_file = loads.source_file
                or later.content_sha256 = loads.content_sha256
            )
    ) as superseded_by
from meta.loads as loads;
