-- Imputation estimator in DuckDB, step 2: imputed effects, their averages and the
-- moment matrices of Gardner's two-stage (did2s) clustered variance.
--
-- Conventions as in imputation_prepare.sql. Coefficients ("kid") are the averages
-- reported: lvl 0 = one per (cohort g, period t), lvl 1 = one per event time e = t - g,
-- lvl 2 = the overall average. Each treated row belongs to one coefficient per level.

-- name: residuals
-- First-stage residuals of the untreated rows, times the weight: e = w * (y - alpha - lambda).
CREATE TEMP TABLE {{res}} AS
SELECT f.unit_id, f.k, f.w * (f.yc + u.ybar - a.alpha - l.lam) AS e
FROM {{fit}} f
JOIN {{units}} u USING (unit_id)
JOIN {{alpha}} a USING (unit_id)
JOIN {{lam}} l USING (k);

-- name: treated
-- Imputable treated rows and their effects tau = y - alpha - lambda (units observed
-- untreated at least once, in periods with an untreated observation).
CREATE TEMP TABLE {{tr}} AS
SELECT o.unit_id, o.t, p.k, o.g, o.t - o.g AS e, o.w, o.y - a.alpha - l.lam AS tau
FROM {{obs}} o
JOIN {{alpha}} a USING (unit_id)
JOIN {{periods}} p USING (t)
JOIN {{lam}} l ON l.k = p.k
WHERE o.treated;

-- name: coefs
-- Weighted means of tau per coefficient (BJS's default: equal weight per treated row,
-- times the row weight if any). n = treated rows, sw = their total weight.
CREATE TEMP TABLE {{coefs}} AS
SELECT
    (row_number() OVER (ORDER BY lvl, g, t, e) - 1)::INTEGER AS kid,
    lvl, g, t, e, n, sw, swt / sw AS beta
FROM (
    SELECT 0 AS lvl, g, t, t - g AS e, count(*) AS n, sum(w) AS sw, sum(w * tau) AS swt
    FROM {{tr}} GROUP BY g, t
    UNION ALL
    SELECT 1, NULL, NULL, e, count(*), sum(w), sum(w * tau) FROM {{tr}} GROUP BY e
    UNION ALL
    SELECT 2, NULL, NULL, NULL, count(*), sum(w), sum(w * tau) FROM {{tr}}
    HAVING count(*) > 0
);

-- name: unit_coefs
-- Per (unit, coefficient): c = the unit's treated weight in it and
-- a = sum w * (tau - beta), the unit's second-stage score. A unit has one cohort, so
-- each of its treated rows is alone in its cell and in its event time: only the overall
-- average needs a sum over the unit's rows.
CREATE TEMP TABLE {{ui}} AS
SELECT r.unit_id, c.kid, c.lvl, r.w AS c, r.w * (r.tau - c.beta) AS a
FROM {{tr}} r JOIN {{coefs}} c ON c.lvl = 0 AND c.g = r.g AND c.t = r.t
UNION ALL
SELECT r.unit_id, c.kid, c.lvl, r.w, r.w * (r.tau - c.beta)
FROM {{tr}} r JOIN {{coefs}} c ON c.lvl = 1 AND c.e = r.e
UNION ALL
SELECT r.unit_id, any_value(c.kid), 2, sum(r.w), sum(r.w * (r.tau - c.beta))
FROM {{tr}} r JOIN {{coefs}} c ON c.lvl = 2
GROUP BY r.unit_id;

-- name: period_coefs
-- Per (period, coefficient): the treated weight in it.
SELECT k, kid, sum(w) AS d
FROM (
    SELECT r.k, c.kid, r.w
    FROM {{tr}} r JOIN {{coefs}} c ON c.lvl = 0 AND c.g = r.g AND c.t = r.t
    UNION ALL
    SELECT r.k, c.kid, r.w FROM {{tr}} r JOIN {{coefs}} c ON c.lvl = 1 AND c.e = r.e
    UNION ALL
    SELECT r.k, c.kid, r.w FROM {{tr}} r JOIN {{coefs}} c ON c.lvl = 2
)
GROUP BY k, kid;

-- name: unit_rhs
-- sum over untreated rows (i, t) of h_it * c_ik, per (period t, coefficient k): with the
-- period part above, the right-hand side of the Schur system for the coefficient's
-- first-stage influence (the period part of (X0'WX0)^-1 X'W x_k).
SELECT f.k, u.kid, sum(f.h * u.c) AS s
FROM {{fit}} f
JOIN {{ui}} u USING (unit_id)
GROUP BY f.k, u.kid;

-- name: gram_aa
-- G = sum_i a_i a_i' (coefficient x coefficient), only the blocks that are reported:
-- event time x event time, and the diagonal for cells (all pairs of cells would cost
-- cells-per-unit squared rows per unit) and the overall average.
SELECT kid AS k1, kid AS k2, sum(a * a) AS m
FROM {{ui}}
GROUP BY kid
UNION ALL
SELECT x.kid, y.kid, sum(x.a * y.a)
FROM {{ui}} x
JOIN {{ui}} y ON x.unit_id = y.unit_id AND x.kid < y.kid
WHERE x.lvl = 1 AND y.lvl = 1
GROUP BY x.kid, y.kid;

-- name: gram_ae
-- F = sum_i a_i e_i' (coefficient x period).
SELECT u.kid, r.k, sum(u.a * r.e) AS m
FROM {{ui}} u
JOIN {{res}} r USING (unit_id)
GROUP BY u.kid, r.k;

-- name: gram_ee
-- E = sum_i e_i e_i' (period x period).
SELECT x.k AS k1, y.k AS k2, sum(x.e * y.e) AS m
FROM {{res}} x
JOIN {{res}} y ON x.unit_id = y.unit_id AND x.k <= y.k
GROUP BY x.k, y.k;

-- name: coefs_frame
SELECT kid, lvl, g, t, e, n, sw, beta FROM {{coefs}} ORDER BY kid;
