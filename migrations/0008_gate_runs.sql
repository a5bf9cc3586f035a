-- Release-gate runs (tunewatch gate --record): one row per run, appended, never updated. A canary of
-- a version shows its latest run; rollout.requireGate refuses a canary whose version has no passing run.
CREATE TABLE IF NOT EXISTS gate_runs
(
    ts             DateTime64(3, 'UTC'),
    id             String,
    model          LowCardinality(String),
    candidate      LowCardinality(String),
    candidate_url  String,
    baseline       LowCardinality(String),
    golden_sha256  String,
    golden_items   UInt32,
    verdict        LowCardinality(String),
    score          Float64,
    reason         String,
    -- Per metric: name, classification, baseline, candidate, effect, interval (JSON array).
    metrics        String CODEC(ZSTD(3)),
    actor          String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (model, candidate, ts);
