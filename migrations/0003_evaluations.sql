-- One row per verdict: automatic evaluators, LLM judge and human labels. Rows are never updated;
-- the effective verdict for a (request, sli) is resolved by effective_verdicts below.
CREATE TABLE IF NOT EXISTS evaluations
(
    request_id        String,
    ts                DateTime64(3, 'UTC'),
    sample_ts         DateTime64(3, 'UTC'),
    model             LowCardinality(String),
    version           LowCardinality(String),
    role              LowCardinality(String),
    sli               LowCardinality(String),
    evaluator         LowCardinality(String),
    evaluator_version LowCardinality(String),
    verdict           LowCardinality(String),
    score             Nullable(Float32),
    reason            String,
    source            LowCardinality(String),
    source_rank       UInt8,
    rater             String,
    comment           String CODEC(ZSTD(3)),
    correction        String CODEC(ZSTD(3)),
    -- What this row changes in the per-minute SLI counts: +1 for a first verdict; -1 old / +1 new when a
    -- label overrules the effective verdict; 0 when it is overruled itself (src/evaluate/resolve.ts).
    delta_good        Int8,
    delta_bad         Int8,
    delta_unknown     Int8
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(sample_ts)
ORDER BY (request_id, sli, ts)
SETTINGS non_replicated_deduplication_window = 10000;

-- Per-minute SLI counts by model, version, role and sli, always equal to the effective verdicts.
CREATE TABLE IF NOT EXISTS sli_rollup_1m
(
    minute  DateTime('UTC'),
    model   LowCardinality(String),
    version LowCardinality(String),
    role    LowCardinality(String),
    sli     LowCardinality(String),
    good    Int64,
    bad     Int64,
    unknown Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (model, version, role, sli, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS sli_rollup_1m_mv TO sli_rollup_1m AS
SELECT
    toStartOfMinute(sample_ts) AS minute,
    model, version, role, sli,
    sum(delta_good)    AS good,
    sum(delta_bad)     AS bad,
    sum(delta_unknown) AS unknown
FROM evaluations
GROUP BY minute, model, version, role, sli;

-- The one definition of "effective verdict": the highest-ranked source wins (human > judge > auto),
-- the latest within a source.
CREATE VIEW IF NOT EXISTS effective_verdicts AS
SELECT
    request_id,
    sli,
    argMax(verdict, (source_rank, ts))   AS verdict,
    argMax(score, (source_rank, ts))     AS score,
    argMax(reason, (source_rank, ts))    AS reason,
    argMax(source, (source_rank, ts))    AS source,
    argMax(evaluator, (source_rank, ts)) AS evaluator,
    argMax(rater, (source_rank, ts))     AS rater,
    max((source_rank, ts))               AS rank_ts,
    any(model)                           AS model,
    any(version)                         AS version,
    any(role)                            AS role,
    any(sample_ts)                       AS sample_ts
FROM evaluations
GROUP BY request_id, sli;

-- Feedback and the debug view look samples up by request id alone.
ALTER TABLE samples ADD INDEX IF NOT EXISTS idx_request_id request_id TYPE bloom_filter GRANULARITY 4;
