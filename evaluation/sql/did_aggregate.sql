-- Callaway & Sant'Anna in DuckDB, step 3: did's aggte (simple, group, dynamic, calendar).
--
-- Every aggregate parameter theta_k is linear in the cells, theta_k = sum_c W[k,c] ATT_c,
-- and its influence function is
--   IF_k(i) = sum_c W[k,c] IF_c(i) + wif_k(G_i),
-- where the weight-estimation term wif (from estimating the cohort shares pg) depends
-- on the unit only through its cohort. So each aggregation is described by three small
-- tables: {{agg_keys}} (key_id, key; key_id -1 = the overall estimate), {{agg_w}}
-- (key_id, cell_id, w) and {{agg_wif}} (key_id, g, wif); the "results" statement then
-- computes every estimate and analytic SE from the cell Gram matrix {{gram}} and the
-- per-cohort influence-function sums {{cif}} of did_att_gt.sql: no unit-level data.

-- name: agg_cells
-- Cells entering the aggregation (did's na.rm: undefined ATTs dropped; for "group" with
-- any undefined ATT also cohorts left without a post-treatment cell), cohort shares pg
-- (share of all units), and did's post test on periods recoded to consecutive integers.
CREATE TEMP TABLE {{agg_cells}} AS
WITH ok AS (
    SELECT cell_id, g, t, att FROM {{cells}} WHERE att IS NOT NULL AND NOT isnan(att)
),
kept AS (
    SELECT *
    FROM ok
    WHERE NOT $is_group
       OR NOT EXISTS (SELECT 1 FROM {{cells}} WHERE att IS NULL OR isnan(att))
       OR g IN (SELECT g FROM ok WHERE t >= g)
),
support AS (
    SELECT v, row_number() OVER (ORDER BY v) AS r
    FROM (SELECT g AS v FROM kept UNION SELECT t FROM kept)
)
SELECT
    k.cell_id,
    k.g,
    k.t,
    k.t - k.g AS e,
    k.att,
    c.n_g / $n AS pg,
    sg.r <= st.r AND st.r <= sg.r + $max_e AS post
FROM kept k
JOIN support sg ON sg.v = k.g
JOIN support st ON st.v = k.t
JOIN {{cohorts}} c ON c.g = k.g
ORDER BY k.cell_id;

-- name: keys_simple
CREATE TEMP TABLE {{agg_keys}} AS SELECT -1 AS key_id, NULL::DOUBLE AS key;

-- name: w_simple
-- pg-weighted mean of all post-treatment cells.
CREATE TEMP TABLE {{agg_w}} AS
SELECT -1 AS key_id, cell_id, pg / sum(pg) OVER () AS w
FROM {{agg_cells}}
WHERE post;

-- name: keys_dynamic
-- Event times e = t - g (original scale, as did) within [min_e, max_e].
CREATE TEMP TABLE {{agg_keys}} AS
SELECT (dense_rank() OVER (ORDER BY e) - 1)::INTEGER AS key_id, e AS key
FROM (SELECT DISTINCT e FROM {{agg_cells}} WHERE e >= $min_e AND e <= $max_e);

-- name: w_dynamic
-- pg-weighted mean of the cells with event time e.
CREATE TEMP TABLE {{agg_w}} AS
SELECT k.key_id, c.cell_id, c.pg / sum(c.pg) OVER (PARTITION BY k.key_id) AS w
FROM {{agg_keys}} k
JOIN {{agg_cells}} c ON c.e = k.key;

-- name: keys_calendar
-- Calendar years from the first treatment on.
CREATE TEMP TABLE {{agg_keys}} AS
SELECT (dense_rank() OVER (ORDER BY t) - 1)::INTEGER AS key_id, t AS key
FROM (
    SELECT DISTINCT t FROM {{agg_cells}} WHERE t >= (SELECT min(g) FROM {{agg_cells}})
);

-- name: w_calendar
-- pg-weighted mean over the cohorts already treated in year t.
CREATE TEMP TABLE {{agg_w}} AS
SELECT k.key_id, c.cell_id, c.pg / sum(c.pg) OVER (PARTITION BY k.key_id) AS w
FROM {{agg_keys}} k
JOIN {{agg_cells}} c ON c.t = k.key AND c.g <= k.key;

-- name: wif_pg
-- did's wif(keepers, pg) %*% att for every pg-weighted key (keepers = its cells):
--   wif(g) = (A_g - P) / S - (C_g - S) * P / S^2,
-- A_g, C_g = sum of ATTs and number of the key's cells of cohort g, P = sum pg * ATT,
-- S = sum pg. Cohorts without cells in the key get exactly 0, so they are not listed.
CREATE TEMP TABLE {{agg_wif}} AS
WITH k AS (
    SELECT w.key_id, c.g, c.pg, c.att
    FROM {{agg_w}} w
    JOIN {{agg_cells}} c USING (cell_id)
),
tot AS (
    SELECT key_id, sum(pg) AS s, sum(pg * att) AS p FROM k GROUP BY key_id
),
by_g AS (
    SELECT key_id, g, sum(att) AS a, count(*) AS cnt FROM k GROUP BY key_id, g
)
SELECT key_id, g, (a - p) / s - (cnt - s) * p / (s * s) AS wif
FROM by_g
JOIN tot USING (key_id);

-- name: overall_mean_w
-- Dynamic/calendar overall: simple mean of the per-key estimates over the keys with
-- key >= $min_key that have cells; its IF is the mean of theirs (wif included).
INSERT INTO {{agg_w}}
WITH sel AS (
    SELECT DISTINCT w.key_id
    FROM {{agg_w}} w
    JOIN {{agg_keys}} k USING (key_id)
    WHERE k.key >= $min_key
)
SELECT -1, cell_id, sum(w) / (SELECT count(*) FROM sel)
FROM {{agg_w}}
WHERE key_id IN (SELECT key_id FROM sel)
GROUP BY cell_id;

-- name: overall_mean_wif
INSERT INTO {{agg_wif}}
WITH sel AS (
    SELECT DISTINCT w.key_id
    FROM {{agg_w}} w
    JOIN {{agg_keys}} k USING (key_id)
    WHERE k.key >= $min_key
)
SELECT -1, g, sum(wif) / (SELECT count(*) FROM sel)
FROM {{agg_wif}}
WHERE key_id IN (SELECT key_id FROM sel)
GROUP BY g;

-- name: overall_key
INSERT INTO {{agg_keys}} VALUES (-1, NULL);

-- name: keys_group
CREATE TEMP TABLE {{agg_keys}} AS
SELECT (dense_rank() OVER (ORDER BY g) - 1)::INTEGER AS key_id, g AS key
FROM (SELECT DISTINCT g FROM {{agg_cells}});

-- name: w_group
-- Per cohort: equal-weight mean over its post-treatment cells (no wif, as in did).
CREATE TEMP TABLE {{agg_w}} AS
SELECT k.key_id, c.cell_id, 1.0 / count(*) OVER (PARTITION BY k.key_id) AS w
FROM {{agg_keys}} k
JOIN {{agg_cells}} c ON c.g = k.key AND c.post;

-- name: wif_none
CREATE TEMP TABLE {{agg_wif}} (key_id INTEGER, g DOUBLE, wif DOUBLE);

-- name: overall_group_w
-- Group overall: pg-weighted mean of the cohort effects of cohorts with post cells.
INSERT INTO {{agg_w}}
WITH ga AS (
    SELECT w.key_id, any_value(c.pg) AS pg
    FROM {{agg_w}} w
    JOIN {{agg_cells}} c USING (cell_id)
    GROUP BY w.key_id
)
SELECT -1, w.cell_id, w.w * ga.pg / (SELECT sum(pg) FROM ga)
FROM {{agg_w}} w
JOIN ga USING (key_id);

-- name: overall_group_wif
-- ... and its wif with the cohorts as keepers (one keeper per cohort, C_g = 1).
INSERT INTO {{agg_wif}}
WITH ga AS (
    SELECT any_value(c.g) AS g, any_value(c.pg) AS pg, sum(w.w * c.att) AS att
    FROM {{agg_w}} w
    JOIN {{agg_cells}} c USING (cell_id)
    WHERE w.key_id >= 0
    GROUP BY w.key_id
),
tot AS (SELECT sum(pg) AS s, sum(pg * att) AS p FROM ga)
SELECT -1, g, (att - p) / s - (1 - s) * p / (s * s)
FROM ga, tot;

-- name: results
-- Estimate, analytic SE (sqrt(mean(IF^2) / n)) and 95% pointwise interval per key:
--   n^2 SE_k^2 = W_k' M W_k + 2 sum_h wif_k(h) sum_c W_kc S_ch + sum_h N_h wif_k(h)^2,
-- with M the cell Gram matrix and S_ch = sum of IF_c over the units of cohort h.
WITH est AS (
    SELECT w.key_id, sum(w.w * c.att) AS att
    FROM {{agg_w}} w
    JOIN {{agg_cells}} c USING (cell_id)
    GROUP BY w.key_id
),
quad AS (
    SELECT w1.key_id, sum(w1.w * w2.w * m.m) AS q
    FROM {{agg_w}} w1
    JOIN {{agg_w}} w2 USING (key_id)
    JOIN {{gram}} m ON m.c1 = w1.cell_id AND m.c2 = w2.cell_id
    GROUP BY w1.key_id
),
cross_sums AS (
    SELECT w.key_id, f.h AS g, sum(w.w * f.s) AS s1
    FROM {{agg_w}} w
    JOIN {{cif}} f USING (cell_id)
    GROUP BY w.key_id, f.h
),
wif_terms AS (
    SELECT f.key_id, sum(2 * f.wif * coalesce(x.s1, 0) + f.wif * f.wif * c.n_g) AS t
    FROM {{agg_wif}} f
    JOIN {{cohorts}} c USING (g)
    LEFT JOIN cross_sums x USING (key_id, g)
    GROUP BY f.key_id
),
se AS (
    SELECT
        k.key_id,
        sqrt(greatest(coalesce(q.q, 0) + coalesce(t.t, 0), 0)) / $n AS se
    FROM {{agg_keys}} k
    LEFT JOIN quad q USING (key_id)
    LEFT JOIN wif_terms t USING (key_id)
),
out AS (
    SELECT
        k.key_id,
        k.key,
        e.att,
        -- did reports an SE this small (or of an undefined estimate) as NA
        CASE WHEN e.att IS NOT NULL AND s.se > $se_floor THEN s.se END AS se
    FROM {{agg_keys}} k
    LEFT JOIN est e USING (key_id)
    LEFT JOIN se s USING (key_id)
)
SELECT key_id, key, att, se, att - $z * se AS ci_low, att + $z * se AS ci_high
FROM out
ORDER BY key_id;

-- name: band_terms
-- For the bootstrap, per cohort h: for each table key with an estimate (in key order),
-- the terms of a_k(i) = sum_c W[k,c] * s_c(h) * (dY_c(i) - mu_c(h)) for a unit of h
-- (list positions kt, kb of its two periods) and wif_k(h).
CREATE TEMP TABLE {{band_terms}} AS
WITH cols AS (
    SELECT key_id, (dense_rank() OVER (ORDER BY key_id) - 1)::INTEGER AS col
    FROM (SELECT DISTINCT key_id FROM {{agg_w}} WHERE key_id >= 0)
),
terms AS (
    SELECT
        c.h,
        w.key_id,
        list({'kt': c.kt + 1, 'kb': c.kb + 1, 'coef': w.w * c.s, 'mu': c.mu}) AS tl
    FROM {{agg_w}} w
    JOIN {{coef}} c USING (cell_id)
    WHERE w.key_id >= 0
    GROUP BY c.h, w.key_id
)
SELECT
    co.g AS h,
    list({'tl': t.tl, 'wif': coalesce(f.wif, 0.0)} ORDER BY k.col) AS kv
FROM {{cohorts}} co
CROSS JOIN cols k
LEFT JOIN terms t ON t.h = co.g AND t.key_id = k.key_id
LEFT JOIN {{agg_wif}} f ON f.g = co.g AND f.key_id = k.key_id
GROUP BY co.g;

-- name: band_chunk
-- IF_k(i) of every table key for the units lo <= uid < hi: one list per unit, computed
-- from its row of outcomes (a unit not observed in a cell's periods contributes 0).
SELECT
    u.uid,
    list_transform(
        b.kv,
        lambda x: x.wif + coalesce(
            list_sum(
                list_transform(
                    x.tl, lambda s: s.coef * (u.dys[s.kt] - u.dys[s.kb] - s.mu)
                )
            ),
            0.0
        )
    ) AS v
FROM {{uids}} u
JOIN {{band_terms}} b ON b.h = u.g
WHERE u.uid >= $lo AND u.uid < $hi
ORDER BY u.uid;

-- name: vcov
-- Covariance of every pair of table keys (key_id >= 0), the cross-key form of "results":
--   n^2 Cov(k, l) = W_k' M W_l + sum_h wif_k(h) (W_l . S_h) + sum_h wif_l(h) (W_k . S_h)
--                   + sum_h N_h wif_k(h) wif_l(h).
-- Pairs with no term are 0; the caller fills a dense matrix in key order.
WITH w AS (
    SELECT * FROM {{agg_w}} WHERE key_id >= 0
),
wif AS (
    SELECT * FROM {{agg_wif}} WHERE key_id >= 0
),
quad AS (
    SELECT w1.key_id AS k, w2.key_id AS l, sum(w1.w * w2.w * m.m) AS v
    FROM w w1
    JOIN {{gram}} m ON m.c1 = w1.cell_id
    JOIN w w2 ON w2.cell_id = m.c2
    GROUP BY w1.key_id, w2.key_id
),
cross_sums AS (
    SELECT w.key_id, f.h AS g, sum(w.w * f.s) AS s1
    FROM w
    JOIN {{cif}} f USING (cell_id)
    GROUP BY w.key_id, f.h
),
cross_terms AS (
    SELECT f.key_id AS k, x.key_id AS l, sum(f.wif * x.s1) AS v
    FROM wif f
    JOIN cross_sums x USING (g)
    GROUP BY f.key_id, x.key_id
),
wif_terms AS (
    SELECT f1.key_id AS k, f2.key_id AS l, sum(f1.wif * f2.wif * c.n_g) AS v
    FROM wif f1
    JOIN wif f2 USING (g)
    JOIN {{cohorts}} c USING (g)
    GROUP BY f1.key_id, f2.key_id
),
terms AS (
    SELECT k, l, v FROM quad
    UNION ALL SELECT k, l, v FROM cross_terms
    UNION ALL SELECT l AS k, k AS l, v FROM cross_terms
    UNION ALL SELECT k, l, v FROM wif_terms
)
SELECT k, l, sum(v) / ($n::DOUBLE * $n::DOUBLE) AS v
FROM terms
GROUP BY k, l;

-- name: overall_influence
-- IF(i) of the overall estimate (key -1) for every unit, in uid order: the weighted sum
-- of its cells' influence functions plus the weight-estimation term of its cohort (0 for
-- a unit in no cell of the aggregation and of a cohort without one).
WITH cell_terms AS (
    SELECT u.uid, sum(w.w * c.s * (u.dys[c.kt + 1] - u.dys[c.kb + 1] - c.mu)) AS v
    FROM {{uids}} u
    JOIN {{coef}} c ON c.h = u.g
    JOIN {{agg_w}} w ON w.cell_id = c.cell_id AND w.key_id = -1
    WHERE u.dys[c.kt + 1] IS NOT NULL AND u.dys[c.kb + 1] IS NOT NULL
    GROUP BY u.uid
)
SELECT u.uid, u.unit_id, coalesce(t.v, 0.0) + coalesce(f.wif, 0.0) AS inf
FROM {{uids}} u
LEFT JOIN cell_terms t USING (uid)
LEFT JOIN {{agg_wif}} f ON f.key_id = -1 AND f.g = u.g
ORDER BY u.uid;
