-- Agency-declared extra columns (schemas/extras.py): an agency's own outcomes and firm
-- attributes beyond the contract (new products, ISO certification, a cluster...). The
-- load that first declares one adds it to raw.<entity> (`alter table ... add column`, in
-- that load's transaction) and records it here; later loads must keep its kind. Rows of
-- loads without the column have it empty. Staging passes it through under `staging_name`
-- (money converted to constant US dollars as <name>_usd; warehouse/models.py).
create table meta.extra_columns (
    entity              varchar not null,   -- firms | outcomes
    column_name         varchar not null,   -- as in raw.<entity>
    kind                varchar not null,   -- number | integer | money | text
    staging_name        varchar not null,   -- as in staging.stg_<entity> and the marts
    declared_in_load_id varchar not null,   -- the first load that declared it
    declared_at         timestamp not null,
    primary key (entity, column_name)
);

-- the extra columns each load declared: the same content is skipped as already loaded
-- only when an earlier load of it declared them all (a declaration added later reloads it)
alter table meta.loads add column extra_columns varchar[];
