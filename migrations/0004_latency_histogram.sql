-- Latency SLOs need "share of requests under a threshold" per minute, for any configured threshold.
-- The rollup keeps a per-minute histogram: latency rounded up to two significant digits (1 ms steps
-- below 100 ms), so a threshold like 800 ms or 1500 ms is counted exactly.
ALTER TABLE samples_rollup_1m ADD COLUMN IF NOT EXISTS latency_le SimpleAggregateFunction(sumMap, Map(UInt32, UInt64));

DROP VIEW IF EXISTS samples_rollup_1m_mv;

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
    quantilesTDigestStateIf(0.5, 0.95, 0.99)(assumeNotNull(ttft_ms), isNotNull(ttft_ms)) AS ttft_ms,
    sumMap(map(latency_bucket, toUInt64(1)))              AS latency_le
FROM
(
    -- In a subquery: the outer aliases (latency_ms is also the quantile state's name) would shadow the column.
    SELECT *, toUInt32(if(latency_ms < 100, ceil(latency_ms), ceil(latency_ms / pow(10, floor(log10(latency_ms)) - 1)) * pow(10, floor(log10(latency_ms)) - 1))) AS latency_bucket
    FROM samples
)
GROUP BY minute, model, version, role;
