-- One row per proxied request (a "sample"), tagged with the model version that answered it.
-- Ordered for per-model-version time-range scans; text columns are redacted before insert.
CREATE TABLE IF NOT EXISTS samples
(
    request_id       String,
    ts               DateTime64(3, 'UTC'),
    tenant           LowCardinality(String),
    model            LowCardinality(String),
    version          LowCardinality(String),
    role             LowCardinality(String),
    upstream         LowCardinality(String),
    endpoint         LowCardinality(String),
    stream           Bool,
    status_code      UInt16,
    error_type       LowCardinality(String),
    latency_ms       Float64,
    ttft_ms          Nullable(Float64),
    input_tokens     UInt32,
    output_tokens    UInt32,
    tokens_estimated Bool,
    finish_reason    LowCardinality(String),
    prompt           String CODEC(ZSTD(3)),
    response         String CODEC(ZSTD(3)),
    pii              Map(LowCardinality(String), UInt32),
    trace_id         String,
    user_hash        String,
    meta             Map(String, String),
    spec             LowCardinality(String),
    context          String CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (model, version, ts, request_id)
-- The retention from config replaces this TTL at start (see store/migrate.ts).
TTL toDateTime(ts) + INTERVAL 30 DAY
-- Replayed or retried batches carry the same deduplication token and are dropped here.
SETTINGS non_replicated_deduplication_window = 10000;
