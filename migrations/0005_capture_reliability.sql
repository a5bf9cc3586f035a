-- What capture could not keep exact, made visible per sample and per minute.
-- flags: fields the upstream sent with the wrong type (recorded as absent), e.g. usage_invalid.
-- truncated: captured text was cut to capture.maxTextBytes (the client still got everything).
ALTER TABLE samples ADD COLUMN IF NOT EXISTS flags Array(LowCardinality(String));
ALTER TABLE samples ADD COLUMN IF NOT EXISTS truncated Bool DEFAULT false;

-- Requests counted on the proxy's hot path per minute, and how many of them have no sample
-- (shed under overload, dropped, quarantined), so the rollup knows its coverage.
CREATE TABLE IF NOT EXISTS capture_coverage_1m
(
    minute        DateTime('UTC'),
    model         LowCardinality(String),
    version       LowCardinality(String),
    role          LowCardinality(String),
    requests      UInt64,
    not_captured  UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (model, version, role, minute);
