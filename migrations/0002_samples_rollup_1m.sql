-- Per-minute rollup by model, version and role: what SLI and summary queries read instead of raw samples.
CREATE TABLE IF NOT EXISTS samples_rollup_1m
(
    minute          DateTime('UTC'),
    model           LowCardinality(String),
    version         LowCardinality(String),
    role            LowCardinality(String),
    requests        SimpleAggregateFunction(sum, UInt64),
    errors          SimpleAggregateFunction(sum, UInt64),
    client_errors   SimpleAggregateFunction(sum, UInt64),
    input_tokens    SimpleAggregateFunction(sum, UInt64),
    output_tokens   SimpleAggregateFunction(sum, UInt64),
    latency_ms      AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
    ttft_ms         AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (model, version, role, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS samples_rollup_1m_mv TO samples_rollup_1m AS
SELECT
    toStartOfMinute(ts)                                   AS minute,
    model,
    version,
    role,
    count()                                               AS requests,
    countIf(status_code >= 500)                           AS errors,
    countIf(status_code >= 400 AND status_code < 500)     AS client_errors,
    sum(input_tokens)                                     AS input_tokens,
    sum(output_tokens)                                    AS output_tokens,
    quantilesTDigestState(0.5, 0.95, 0.99)(latency_ms)    AS latency_ms,
    quantilesTDigestStateIf(0.5, 0.95, 0.99)(assumeNotNull(ttft_ms), isNotNull(ttft_ms)) AS ttft_ms
FROM samples
GROUP BY minute, model, version, role;
