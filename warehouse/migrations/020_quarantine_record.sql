-- Each quarantined row's whole record as the agency submitted it: its cells as text, keyed
-- by contract column name, each cut to 200 characters like `value`, identifiers
-- pseudonymized as in `value` (never a raw firm id). Every record of one row carries the
-- same JSON. Null for a line the structural check set aside (schemas/structure.py: it
-- has no cells to key) and for rows quarantined before this migration. The "latest
-- submission" suites of the Data Docs (schemas/expectations.py) validate these records
-- with the loaded rows: the rows as submitted, rejected ones included.
alter table meta.quarantine add column record json;
