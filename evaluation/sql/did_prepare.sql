-- Callaway & Sant'Anna in DuckDB, step 1: validate and reshape the panel.
--
-- Named statements ("-- name: x") are run one at a time by evaluation/did_duckdb.py.
-- {{x}} placeholders are identifiers, substituted only through a quoting helper;
-- $x are bound parameters. Internally a cohort is a DOUBLE with +inf = never treated,
-- so "never treated" sorts last and joins like any other cohort. Periods are numbered
-- k = 0, 1, ... in time order.

-- name: raw_view
-- The panel with did's normalisation: numeric casts (each column cast once) and
-- cohort 0/NULL/NaN -> 0; *_bad_type flags values that are not numbers at all.
CREATE OR REPLACE TEMP VIEW {{raw}} AS
SELECT
    unit_id,
    t_missing,
    t,
    CASE WHEN g_raw IS NULL OR isnan(g_raw) THEN 0.0 ELSE g_raw END AS g,
    NOT g_missing AND g_raw IS NULL AS g_bad_type,
    NOT y_missing AND y IS NULL AS y_bad_type,
    y,
    y IS NOT NULL AND NOT isnan(y) AS ok
FROM (
    SELECT
        {{unit}} AS unit_id,
        {{time}} IS NULL AS t_missing,
        TRY_CAST({{time}} AS DOUBLE) AS t,
        {{cohort}} IS NULL AS g_missing,
        TRY_CAST({{cohort}} AS DOUBLE) AS g_raw,
        {{outcome}} IS NULL AS y_missing,
        TRY_CAST({{outcome}} AS DOUBLE) AS y
    FROM {{panel}}
);

-- name: period_scan
-- Scan 1 of the panel, grouped by period: rows failing an input check (their kind is
-- only looked up, by "input_errors", if there are any), and per period the rows with an
-- outcome, their mean (used to centre outcomes, see "units") and the cohort facts did's
-- preprocessing needs.
CREATE TEMP TABLE {{tstats}} AS
SELECT
    t,
    count(*) FILTER (
        WHERE unit_id IS NULL
           OR t_missing
           OR t IS NULL
           OR NOT isfinite(t)
           OR t <> round(t)
           OR g_bad_type
           OR NOT isfinite(g)
           OR g <> round(g)
           OR y_bad_type
    ) AS n_bad,
    count(*) FILTER (WHERE ok) AS n_ok,
    avg(y) FILTER (WHERE ok) AS mu,
    sum(y) FILTER (WHERE ok) AS sum_y,  -- partitions' scans add up (did_partitioned.py)
    coalesce(bool_or(g = 0) FILTER (WHERE ok), false) AS any_zero,
    max(g) FILTER (WHERE ok) AS g_max
FROM {{raw}}
GROUP BY t;

-- name: scan_summary
SELECT
    sum(n_bad) AS n_bad,
    sum(n_ok) AS n_outcomes,
    min(t) FILTER (WHERE n_ok > 0) AS tmin,
    max(t) FILTER (WHERE n_ok > 0) AS tmax,
    bool_or(any_zero) AS any_zero,
    max(g_max) AS g_max
FROM {{tstats}};

-- name: input_errors
-- Which input checks fail (another scan; only run when period_scan found bad rows).
SELECT
    count(*) FILTER (WHERE unit_id IS NULL) AS null_units,
    count(*) FILTER (WHERE t_missing) AS null_times,
    count(*) FILTER (
        WHERE NOT t_missing AND (t IS NULL OR NOT isfinite(t) OR t <> round(t))
    ) AS bad_times,
    count(*) FILTER (WHERE g_bad_type OR NOT isfinite(g) OR g <> round(g)) AS bad_cohorts,
    count(*) FILTER (WHERE y_bad_type) AS bad_outcomes
FROM {{raw}};

-- name: periods
CREATE TEMP TABLE {{periods}} AS
SELECT (row_number() OVER (ORDER BY t) - 1)::INTEGER AS k, t, mu
FROM {{tstats}}
WHERE n_ok > 0 AND t IS NOT NULL
ORDER BY t;

-- name: units
-- Scan 2 of the panel, grouped by unit: one row per unit with its outcomes as a dense
-- list over the periods $periods (NULL = not observed), its observation pattern pk
-- (bit k set = period k observed) and did's preprocessing:
-- * cohorts 0 or after the last period ($tmax) are never treated (+inf);
-- * units treated by the first period (cohort <= $tmin + anticipation) are dropped;
-- * periods from $tcut (index $kcut) on are dropped (without never-treated units, did
--   keeps only the periods before the last cohort's anticipation-adjusted treatment).
-- Outcomes are centred by their period mean ($mus) and then by the unit's mean: first
-- differences within a unit, and so every statistic used later, are unchanged, while
-- the cross-products summed in "moments" stay well conditioned.
-- Every unit keeps a row (keep = in the estimation sample) so that a cohort varying
-- within a unit and the number of units dropped as treated early can be reported.
CREATE TEMP TABLE {{units}} AS
WITH agg AS (
    SELECT
        unit_id,
        min(g) AS g_min,
        max(g) AS g_max,
        list(t) FILTER (WHERE ok) AS ts,
        list(y) FILTER (WHERE ok) AS ys
    FROM {{raw}}
    GROUP BY unit_id
),
counted AS (
    SELECT
        *,
        CASE WHEN g_min = 0 OR g_min > $tmax THEN 'inf'::DOUBLE ELSE g_min END AS g,
        coalesce(len(ts), 0) AS n_ok,
        coalesce(len(list_filter(ts, lambda x: x < $tcut)), 0) AS n_obs
    FROM agg
),
flagged AS (
    SELECT
        unit_id,
        g_min <> g_max AS g_varies,
        g,
        n_ok > 0 AND g <= $tmin + $anticipation AS early,
        n_obs > 0 AND g > $tmin + $anticipation AS keep,
        n_obs,
        ts,
        ys
    FROM counted
),
dense AS (
    SELECT
        unit_id,
        g,
        g_varies,
        early,
        keep,
        n_obs,
        CASE WHEN keep THEN list_transform(
            range($n_periods),
            lambda k: CASE
                WHEN k < $kcut THEN ys[list_position(ts, $periods[k + 1])] - $mus[k + 1]
            END
        ) END AS yk
    FROM flagged
),
centred AS (
    SELECT *, list_avg(yk) AS ybar FROM dense
)
SELECT
    unit_id,
    g,
    g_varies,
    early,
    keep,
    n_obs,
    list_sum(
        list_transform(
            range($n_periods),
            lambda k: CASE WHEN yk[k + 1] IS NULL THEN 0 ELSE 1::HUGEINT << k::HUGEINT END
        )
    ) AS pk,
    -- a trailing constant 1 turns the cross-products into sums and counts too
    list_append(list_transform(yk, lambda y: y - ybar), 1.0) AS dys
FROM centred;

-- name: units_summary
-- n_duplicated: a unit with two rows for one period has fewer observed periods than
-- rows (the dense list keeps one of them).
SELECT
    count(*) FILTER (WHERE g_varies) AS n_varying_cohort,
    count(*) FILTER (WHERE early) AS n_early,
    count(*) FILTER (WHERE keep) AS n_units,
    count(*) FILTER (WHERE keep AND n_obs <> bit_count(pk)) AS n_duplicated
FROM {{units}};

-- name: cohorts
-- Units per cohort (never treated = +inf).
CREATE TEMP TABLE {{cohorts}} AS
SELECT g, count(*) AS n_g FROM {{units}} WHERE keep GROUP BY g ORDER BY g;

-- name: moments
-- Scan of the units: per (cohort, observation pattern), every cross-product
-- sum_i y_ia * y_ib of the centred outcomes (a <= b; index $n_periods is the constant
-- 1, so (a, $n_periods) gives sums and ($n_periods, $n_periods) counts). These are
-- sufficient statistics: every ATT(g,t), its influence function's second moments with
-- any other cell (for units observed in all the periods both cells use) and hence every
-- analytic SE follow from them without touching unit-level data again.
CREATE TEMP TABLE {{mom}} AS
WITH pairs AS (
    -- list positions (1-based) and one small key per pair: grouping by it is cheaper
    SELECT ra.a + 1 AS a1, rb.b + 1 AS b1, ra.a * ($n_periods + 1) + rb.b AS ab
    FROM range(0, $n_periods + 1) ra(a), range(0, $n_periods + 1) rb(b)
    WHERE ra.a <= rb.b
),
sums AS (
    SELECT u.g, u.pk, q.ab, sum(u.dys[q.a1] * u.dys[q.b1]) AS s
    FROM {{units}} u, pairs q
    WHERE u.keep
    GROUP BY u.g, u.pk, q.ab
)
SELECT
    g,
    pk,
    (ab // ($n_periods + 1))::INTEGER AS a,
    (ab % ($n_periods + 1))::INTEGER AS b,
    s
FROM sums;

-- name: pattern_moments
-- The moments of each (cohort, pattern) as a full symmetric matrix in one list
-- (row-major, width $n_periods + 1), read with did_m(m, w, p, q).
CREATE TEMP TABLE {{patmom}} AS
SELECT g, pk, list(coalesce(s, 0.0) ORDER BY i) AS m
FROM (
    SELECT g, pk, a * ($n_periods + 1) + b AS i, s FROM {{mom}}
    UNION ALL
    SELECT g, pk, b * ($n_periods + 1) + a AS i, s FROM {{mom}} WHERE a < b
)
GROUP BY g, pk;

-- name: macro_moment
-- Entry (p, q) of a pattern's moment matrix m of width w.
CREATE OR REPLACE TEMP MACRO did_m(m, w, p, q) AS m[p * w + q + 1];

-- name: macro_has_period
-- Is period k observed in pattern pk?
CREATE OR REPLACE TEMP MACRO did_has(pk, k) AS ((pk >> k::HUGEINT) & 1::HUGEINT) = 1;

-- name: observed_periods
-- Periods observed for at least one unit of the sample (did's periods).
CREATE TEMP TABLE {{fperiods}} AS
SELECT p.k, p.t
FROM {{periods}} p
WHERE EXISTS (SELECT 1 FROM {{patmom}} m WHERE did_has(m.pk, p.k))
ORDER BY p.t;

-- name: periods_list
SELECT t, mu FROM {{periods}} ORDER BY k;
