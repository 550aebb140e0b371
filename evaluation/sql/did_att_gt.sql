-- Callaway & Sant'Anna in DuckDB, step 2: group-time ATTs and their influence functions.
--
-- Without covariates every ATT(g,t) is a difference of mean changes,
--   ATT(g,t) = mean(Y_t - Y_b | G = g) - mean(Y_t - Y_b | control),
-- over the units observed in both t and the base period b (unbalanced panels: all
-- available pairs). Its influence function, rescaled by n / n_gt as R did does, is
--   IF_c(i) = s_c(h) * (dY_i - mu_c(h)),  h = cohort of unit i,
-- with s = n/n1, mu = m1 for treated units and s = -n/n0, mu = m0 for controls.
-- Everything here is computed from the (cohort, pattern) moments of did_prepare.sql;
-- did_m(m, $w, p, q) reads sum_i y_ip * y_iq, and index $T (the constant) gives sums
-- ($T, q) and counts ($T, $T).

-- name: cohorts_without_pre
-- Cohorts never observed before treatment: did drops them (with a warning).
SELECT c.g
FROM {{cohorts}} c
WHERE isfinite(c.g)
  AND NOT EXISTS (SELECT 1 FROM {{fperiods}} p WHERE p.t < c.g - $anticipation)
ORDER BY c.g;

-- name: plan
-- Every (g, t) cell did estimates, numbered in did's order (by cohort, then period).
-- Varying base: b = previous period before treatment, the last pre-treatment period
-- afterwards; did's "post" test is g <= t even with anticipation. Universal base:
-- b = last pre-treatment period for every t (the cell t = b is the reference, 0).
CREATE TEMP TABLE {{plan}} AS
WITH per AS (
    SELECT k, t, lag(k) OVER (ORDER BY t) AS prev_k, lag(t) OVER (ORDER BY t) AS prev_t
    FROM {{fperiods}}
),
coh AS (
    SELECT c.g, arg_max(p.k, p.t) FILTER (WHERE p.t < c.g - $anticipation) AS pre_k,
        max(p.t) FILTER (WHERE p.t < c.g - $anticipation) AS pre_t
    FROM {{cohorts}} c, {{fperiods}} p
    WHERE isfinite(c.g)
    GROUP BY c.g
)
SELECT
    (row_number() OVER (ORDER BY c.g, p.t) - 1)::INTEGER AS cell_id,
    c.g,
    p.t,
    CASE WHEN $universal OR c.g <= p.t THEN c.pre_t ELSE p.prev_t END AS b,
    p.k AS kt,
    CASE WHEN $universal OR c.g <= p.t THEN c.pre_k ELSE p.prev_k END AS kb
FROM coh c, per p
WHERE c.pre_t IS NOT NULL AND ($universal OR p.prev_t IS NOT NULL)
ORDER BY cell_id;

-- name: members
-- Which cohorts enter each cell, and as what. Controls: the never treated, plus (not
-- yet treated) cohorts first treated after max(t, b) + anticipation other than g.
CREATE TEMP TABLE {{members}} AS
SELECT p.cell_id, c.g AS h, c.g = p.g AS treated, p.kt, p.kb
FROM {{plan}} p
JOIN {{cohorts}} c
    ON c.g = p.g
    OR isinf(c.g)
    OR ($notyet AND c.g > greatest(p.t, p.b) + $anticipation)
WHERE p.t <> p.b;

-- name: member_moments
-- Per (cell, member cohort), over the patterns observed in both t and b: the number of
-- units, the sum of dY and the sum of dY^2.
CREATE TEMP TABLE {{mstat}} AS
SELECT
    mb.cell_id,
    mb.h,
    any_value(mb.treated) AS treated,
    sum(did_m(p.m, $w, $T, $T)) AS n,
    sum(did_m(p.m, $w, mb.kt, $T) - did_m(p.m, $w, mb.kb, $T)) AS s1,
    sum(
        did_m(p.m, $w, mb.kt, mb.kt)
        - 2 * did_m(p.m, $w, mb.kt, mb.kb)
        + did_m(p.m, $w, mb.kb, mb.kb)
    ) AS s2
FROM {{members}} mb
JOIN {{patmom}} p ON p.g = mb.h
WHERE did_has(p.pk, mb.kt) AND did_has(p.pk, mb.kb)
GROUP BY mb.cell_id, mb.h;

-- name: cell_stats
-- Per cell: group sizes, mean changes and their population variances. The analytic SE
-- sqrt(mean(IF^2) / n) of the rescaled IF simplifies to sqrt(v1/n1 + v0/n0).
CREATE TEMP TABLE {{stats}} AS
WITH sums AS (
    SELECT
        cell_id,
        coalesce(sum(n) FILTER (WHERE treated), 0) AS n1,
        coalesce(sum(n) FILTER (WHERE NOT treated), 0) AS n0,
        sum(s1) FILTER (WHERE treated) AS s1_1,
        sum(s1) FILTER (WHERE NOT treated) AS s1_0,
        sum(s2) FILTER (WHERE treated) AS s2_1,
        sum(s2) FILTER (WHERE NOT treated) AS s2_0
    FROM {{mstat}}
    GROUP BY cell_id
)
SELECT
    cell_id,
    n1::BIGINT AS n1,
    n0::BIGINT AS n0,
    s1_1 / n1 AS m1,
    s1_0 / n0 AS m0,
    greatest(s2_1 / n1 - (s1_1 / n1) ^ 2, 0) AS v1,
    greatest(s2_0 / n0 - (s1_0 / n0) ^ 2, 0) AS v0
FROM sums;

-- name: coefficients
-- IF_c(i) = s * (dY_i - mu) for the units of cohort h in cell c (cells with both
-- treated and control units only).
CREATE TEMP TABLE {{coef}} AS
SELECT
    mb.cell_id,
    mb.h,
    mb.kt,
    mb.kb,
    CASE WHEN mb.treated THEN $n / s.n1 ELSE -$n / s.n0 END AS s,
    CASE WHEN mb.treated THEN s.m1 ELSE s.m0 END AS mu
FROM {{members}} mb
JOIN {{stats}} s USING (cell_id)
WHERE s.n1 > 0 AND s.n0 > 0;

-- name: coefficients_small_sample
-- The coefficients of evaluation.diagnostics.small_sample_corrected: each cell's s times
-- sqrt(n / (n - 1)) of the unit's side of the cell (its beneficiaries, n = n1; its
-- comparison units, n = n0), when n > 1. The cells' ATTs and SEs are unchanged.
CREATE TEMP TABLE {{coef_ss}} AS
SELECT
    c.cell_id,
    c.h,
    c.kt,
    c.kb,
    c.s * CASE
        WHEN c.h = p.g AND s.n1 > 1 THEN sqrt(s.n1 / (s.n1 - 1))
        WHEN c.h <> p.g AND s.n0 > 1 THEN sqrt(s.n0 / (s.n0 - 1))
        ELSE 1.0
    END AS s,
    c.mu
FROM {{coef}} c
JOIN {{plan}} p USING (cell_id)
JOIN {{stats}} s USING (cell_id);

-- name: gram
-- M[c1, c2] = sum_i IF_c1(i) * IF_c2(i): only units of a cohort in both cells and
-- observed in all four periods contribute, i.e. the patterns containing them.
-- sum (dY1 - mu1)(dY2 - mu2) = sum dY1 dY2 - mu2 sum dY1 - mu1 sum dY2 + mu1 mu2 n.
CREATE TEMP TABLE {{gram}} AS
SELECT
    c1.cell_id AS c1,
    c2.cell_id AS c2,
    sum(
        c1.s * c2.s * (
            did_m(p.m, $w, c1.kt, c2.kt)
            - did_m(p.m, $w, c1.kt, c2.kb)
            - did_m(p.m, $w, c1.kb, c2.kt)
            + did_m(p.m, $w, c1.kb, c2.kb)
            - c2.mu * (did_m(p.m, $w, c1.kt, $T) - did_m(p.m, $w, c1.kb, $T))
            - c1.mu * (did_m(p.m, $w, c2.kt, $T) - did_m(p.m, $w, c2.kb, $T))
            + c1.mu * c2.mu * did_m(p.m, $w, $T, $T)
        )
    ) AS m
FROM {{coef}} c1
JOIN {{coef}} c2 ON c2.h = c1.h
JOIN {{patmom}} p ON p.g = c1.h
WHERE did_has(p.pk, c1.kt)
  AND did_has(p.pk, c1.kb)
  AND did_has(p.pk, c2.kt)
  AND did_has(p.pk, c2.kb)
GROUP BY c1.cell_id, c2.cell_id;

-- name: cohort_if_sums
-- sum over the units of cohort h of IF_c(i) (for the weight-estimation cross terms).
CREATE TEMP TABLE {{cif}} AS
SELECT c.cell_id, c.h, c.s * (ms.s1 - c.mu * ms.n) AS s
FROM {{coef}} c
JOIN {{mstat}} ms USING (cell_id, h);

-- name: cells
-- One row per estimated cell. A cell without treated or control pairs is dropped under
-- a varying base and kept as NA under a universal base, as did does.
CREATE TEMP TABLE {{cells}} AS
WITH joined AS (
    SELECT
        p.cell_id,
        p.g,
        p.t,
        p.b,
        p.t = p.b AS is_reference,
        coalesce(s.n1, 0) AS n1,
        coalesce(s.n0, 0) AS n0,
        s.m1 - s.m0 AS diff,
        sqrt(s.v1 / s.n1 + s.v0 / s.n0) AS se
    FROM {{plan}} p
    LEFT JOIN {{stats}} s USING (cell_id)
)
SELECT
    cell_id,
    g,
    t,
    b,
    CASE WHEN is_reference THEN 0.0 WHEN n1 > 0 AND n0 > 0 THEN diff END AS att,
    -- did reports an SE this small as NA (e.g. the universal-base reference cell)
    CASE WHEN NOT is_reference AND n1 > 0 AND n0 > 0 AND se > $se_floor THEN se END AS se,
    CASE WHEN is_reference THEN 0 ELSE n1 END AS n_treated,
    CASE WHEN is_reference THEN 0 ELSE n0 END AS n_control
FROM joined
WHERE is_reference OR $universal OR (n1 > 0 AND n0 > 0)
ORDER BY cell_id;

-- name: cells_frame
-- The cells as did.py reports them.
SELECT
    g::BIGINT AS "group",
    t::BIGINT AS "time",
    (t - g)::BIGINT AS event_time,
    att,
    se,
    n_treated,
    n_control,
    b::BIGINT AS base_period
FROM {{cells}}
ORDER BY cell_id;

-- name: uids
-- Units numbered by (cohort, id), never treated last, as did orders them (the rows of
-- GroupTimeATT.influence); only needed for unit-level output (bootstrap, influence).
CREATE TEMP TABLE IF NOT EXISTS {{uids}} AS
SELECT (row_number() OVER (ORDER BY g, unit_id) - 1)::INTEGER AS uid, unit_id, g, dys
FROM {{units}}
WHERE keep
ORDER BY uid;

-- name: influence_view
-- The unit x cell influence functions in long form (zero for units not in the cell).
CREATE OR REPLACE TEMP VIEW {{inf}} AS
SELECT c.cell_id, u.uid, u.unit_id, c.s * (u.dys[c.kt + 1] - u.dys[c.kb + 1] - c.mu) AS inf
FROM {{uids}} u
JOIN {{coef}} c ON c.h = u.g
WHERE u.dys[c.kt + 1] IS NOT NULL AND u.dys[c.kb + 1] IS NOT NULL;
