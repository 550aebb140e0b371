-- Every load: the file, its content hash and what happened to its rows (internal editions).
select entity, source_file, content_sha256, rows_in, rows_loaded, rows_quarantined, loaded_at
from meta.loads
order by loaded_at
