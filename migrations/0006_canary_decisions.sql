-- Canary rollouts: an append-only log of decisions. A model's current rollout state is its latest
-- row; nothing is updated in place. Every analysis, automatic move and manual action is a row, with
-- its inputs (the analysis as JSON), its verdict, and who or what decided.
CREATE TABLE IF NOT EXISTS canary_decisions
(
    ts          DateTime64(3, 'UTC'),
    model       LowCardinality(String),
    baseline    LowCardinality(String),
    canary      LowCardinality(String),
    weight      Float64,
    step        Int32,
    state       LowCardinality(String),
    action      LowCardinality(String),
    actor       String,
    verdict     LowCardinality(String),
    score       Float64,
    reason      String,
    analysis    String CODEC(ZSTD(3)),
    started     DateTime64(3, 'UTC'),
    step_started DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (model, ts);
