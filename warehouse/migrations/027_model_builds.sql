-- The last build of the SQL models (staging views, marts): what it was built from. A build
-- whose fingerprint is unchanged (every raw table's content, the models' rendered SQL, the
-- run's variables, the code version; warehouse.models.build_fingerprint) keeps the marts
-- as they are instead of rebuilding them: at a million firms that rebuild was ~30 s of
-- every run and `mes-eval audit`, with nothing changed.
create table meta.model_builds (
    fingerprint varchar not null,
    built_at timestamp not null
);
