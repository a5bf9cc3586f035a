-- The feedback loop's two logs. Both are appended to, never updated: an item's (or a job's) current
-- state is its latest row.

-- The retraining queue: one row each time a failing or corrected sample enters or changes state
-- (ready, needs_correction, excluded), with the reason and, when ready, the target answer.
CREATE TABLE IF NOT EXISTS retrain_queue
(
    ts                DateTime64(3, 'UTC'),
    model             LowCardinality(String),
    request_id        String,
    version           LowCardinality(String),
    sample_ts         DateTime64(3, 'UTC'),
    state             LowCardinality(String),
    reason            String,
    -- The failing SLIs with their evaluator, version, source and reason (JSON array).
    failures          String,
    target            String CODEC(ZSTD(3)),
    target_from       LowCardinality(String),
    target_request_id String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (model, request_id, ts);

-- Fine-tuning jobs: one row per state change, each carrying the whole job record as it was then.
CREATE TABLE IF NOT EXISTS retrain_jobs
(
    ts           DateTime64(3, 'UTC'),
    id           String,
    model        LowCardinality(String),
    state        LowCardinality(String),
    launcher     LowCardinality(String),
    launcher_id  String,
    log          String,
    output       String,
    dataset_id   String,
    dataset_dir  String,
    content_hash String,
    trigger      LowCardinality(String),
    actor        String,
    exit_code    Nullable(Int32),
    error        String,
    detail       String,
    -- The trained model's endpoint once known (JSON: version, upstream, upstreamModel), '' before.
    result       String,
    -- The manifest's stage counts and files (JSON), for listing jobs without reading the files.
    summary      String CODEC(ZSTD(3)),
    created      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(created)
ORDER BY (id, ts);

-- The effective verdict's evaluator version too, for the dataset manifest's provenance.
CREATE OR REPLACE VIEW effective_verdicts AS
SELECT
    request_id,
    sli,
    argMax(verdict, (source_rank, ts))           AS verdict,
    argMax(score, (source_rank, ts))             AS score,
    argMax(reason, (source_rank, ts))            AS reason,
    argMax(source, (source_rank, ts))            AS source,
    argMax(evaluator, (source_rank, ts))         AS evaluator,
    argMax(evaluator_version, (source_rank, ts)) AS evaluator_version,
    argMax(rater, (source_rank, ts))             AS rater,
    max((source_rank, ts))                       AS rank_ts,
    any(model)                                   AS model,
    any(version)                                 AS version,
    any(role)                                    AS role,
    any(sample_ts)                               AS sample_ts
FROM evaluations
GROUP BY request_id, sli;
