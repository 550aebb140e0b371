-- One pseudonymization key per warehouse (warehouse/keys.py): each load that makes
-- pseudonyms (an entity with firm_id) records the fingerprint of its key, a keyed hash of
-- a fixed text that tells keys apart and reveals nothing of the key. A load under a key
-- of another fingerprint is refused. Null: a load of an entity without firm identifiers,
-- or one made before this migration (its key is unknown).
alter table meta.loads add column key_fingerprint varchar;
