-- Imputation estimator (Borusyak, Jaravel & Spiess 2024) in DuckDB, step 1: validate the
-- panel, split it into untreated and treated observations and fit the unit and period
-- fixed effects on the untreated ones.
--
-- Named statements ("-- name: x") are run one at a time by evaluation/imputation.py.
-- {{x}} placeholders are identifiers, substituted only through a quoting helper
-- ({{weight}} is either a quoted column or the constant 1.0); $x are bound parameters.
-- Periods with at least one untreated observation are numbered k = 0, 1, ... in time
-- order. Cohort 0, NULL or NaN = never treated.

-- name: raw_view
-- The panel with numeric casts (each column cast once); *_bad flags values that are
-- present but not numbers. Rows with a missing (NULL/NaN) outcome are ignored later.
CREATE OR REPLACE TEMP VIEW {{raw}} AS
SELECT
    unit_id,
    t_missing,
    t,
    CASE WHEN g_raw IS NULL OR isnan(g_raw) THEN 0.0 ELSE g_raw END AS g,
    NOT g_missing AND g_raw IS NULL AS g_bad,
    NOT y_missing AND y IS NULL AS y_bad,
    y,
    w,
    y IS NOT NULL AND NOT isnan(y) AS ok
FROM (
    SELECT
        {{unit}} AS unit_id,
        {{time}} IS NULL AS t_missing,
        TRY_CAST({{time}} AS DOUBLE) AS t,
        {{cohort}} IS NULL AS g_missing,
        TRY_CAST({{cohort}} AS DOUBLE) AS g_raw,
        {{outcome}} IS NULL AS y_missing,
        TRY_CAST({{outcome}} AS DOUBLE) AS y,
        TRY_CAST({{weight}} AS DOUBLE) AS w
    FROM {{panel}}
);

-- name: input_errors
-- One scan: every input check (weights only matter on rows with an outcome).
SELECT
    count(*) FILTER (WHERE unit_id IS NULL) AS null_units,
    count(*) FILTER (WHERE t_missing) AS null_times,
    count(*) FILTER (
        WHERE NOT t_missing AND (t IS NULL OR NOT isfinite(t) OR t <> round(t))
    ) AS bad_times,
    count(*) FILTER (WHERE g_bad OR NOT isfinite(g) OR g <> round(g) OR g < 0) AS bad_cohorts,
    count(*) FILTER (WHERE y_bad OR (ok AND NOT isfinite(y))) AS bad_outcomes,
    count(*) FILTER (WHERE ok AND (w IS NULL OR NOT isfinite(w) OR w <= 0)) AS bad_weights,
    count(*) FILTER (WHERE ok) AS n_outcomes
FROM {{raw}};

-- name: obs
-- The estimation rows: one per (unit, period) with an outcome. An observation is
-- treated from $anticipation periods before its cohort's first treated period on.
CREATE TEMP TABLE {{obs}} AS
SELECT
    unit_id,
    t,
    g,
    y,
    w,
    g > 0 AND t >= g - $anticipation AS treated
FROM {{raw}}
WHERE ok;

-- name: units
-- Per unit: its cohort and its untreated observations' total weight and weighted mean
-- outcome (the unit fixed effect is ybar minus the weighted mean of its period effects),
-- and the input checks that need a unit's rows together.
CREATE TEMP TABLE {{units}} AS
SELECT
    unit_id,
    any_value(g) AS g,
    min(g) <> max(g) AS g_varies,
    count(*) - len(list_distinct(list(t))) AS n_dup,  -- faster than count(DISTINCT t)
    coalesce(sum(w) FILTER (WHERE NOT treated), 0.0) AS w0,
    count(*) FILTER (WHERE NOT treated) AS n0,
    count(*) FILTER (WHERE treated) AS n1,
    sum(w * y) FILTER (WHERE NOT treated) / sum(w) FILTER (WHERE NOT treated) AS ybar
FROM {{obs}}
GROUP BY unit_id;

-- name: unit_checks
SELECT
    coalesce(sum(n_dup), 0) AS n_duplicated,
    count(*) FILTER (WHERE g_varies) AS n_varying_cohort
FROM {{units}};

-- name: periods
-- Periods with untreated observations (the only ones whose effect is identified).
CREATE TEMP TABLE {{periods}} AS
SELECT (row_number() OVER (ORDER BY t) - 1)::INTEGER AS k, t, sum(w) AS w0
FROM {{obs}}
WHERE NOT treated
GROUP BY t
ORDER BY t;

-- name: sample_summary
-- What cannot be imputed: treated rows of units never observed untreated (the whole
-- unit is dropped) and treated rows in a period without any untreated observation.
SELECT
    (SELECT count(*) FROM {{units}}) AS n_units_all,
    (SELECT count(*) FROM {{units}} WHERE n0 = 0) AS n_units_dropped,
    (SELECT coalesce(sum(n1), 0) FROM {{units}} WHERE n0 = 0) AS n_obs_dropped_unit,
    (SELECT count(*) FROM {{obs}} o
        JOIN {{units}} u USING (unit_id)
        WHERE o.treated AND u.n0 > 0
          AND o.t NOT IN (SELECT t FROM {{periods}})) AS n_obs_dropped_period,
    (SELECT count(*) FROM {{obs}} WHERE NOT treated) AS n_untreated,
    (SELECT count(*) FROM {{periods}}) AS n_periods;

-- name: fit
-- The untreated observations (the first-stage sample) with their period index, the
-- outcome centred by the unit's weighted mean and h = w / (unit's untreated weight).
CREATE TEMP TABLE {{fit}} AS
SELECT o.unit_id, p.k, o.w, o.w / u.w0 AS h, o.y - u.ybar AS yc
FROM {{obs}} o
JOIN {{units}} u USING (unit_id)
JOIN {{periods}} p USING (t)
WHERE NOT o.treated;

-- name: schur_pairs
-- Eliminating the unit effects from the weighted normal equations of
-- y = alpha_i + lambda_t on the untreated rows leaves S lambda = r over periods, with
-- S = diag(period weight) - sum_i w_i w_i' / W_i. This returns the second term, summed
-- over pairs of one unit's untreated periods (k1 <= k2; the matrix is symmetric).
SELECT a.k AS k1, b.k AS k2, sum(a.w * b.h) AS s
FROM {{fit}} a
JOIN {{fit}} b ON a.unit_id = b.unit_id AND a.k <= b.k
GROUP BY a.k, b.k;

-- name: schur_rhs
-- r_t = sum over untreated rows in period t of w * (y - unit's weighted mean).
SELECT k, sum(w * yc) AS r FROM {{fit}} GROUP BY k ORDER BY k;

-- name: lambda
-- The period effects solved in Python (a small periods x periods system), back in SQL.
CREATE TEMP TABLE {{lam}} AS
SELECT unnest($ks)::INTEGER AS k, unnest($lams)::DOUBLE AS lam;

-- name: alpha
-- Unit effects: alpha_i = ybar_i - sum_t h_it lambda_t (weighted mean over own periods).
CREATE TEMP TABLE {{alpha}} AS
SELECT f.unit_id, any_value(u.ybar) - sum(f.h * l.lam) AS alpha
FROM {{fit}} f
JOIN {{lam}} l USING (k)
JOIN {{units}} u USING (unit_id)
GROUP BY f.unit_id;
