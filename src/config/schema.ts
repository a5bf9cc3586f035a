// The shape of tunewatch.yaml, defined once: TypeBox gives both the JSON Schema that ajv
// validates at start-up and the TypeScript type every module imports.
import { Type, type Static } from '@sinclair/typebox';

const Url = Type.String({ pattern: '^https?://', description: 'an http(s) URL' });

export const DeploymentSchema = Type.Object(
  {
    version: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._:-]+$' }),
    upstream: Url,
    upstreamModel: Type.Optional(Type.String({ minLength: 1 })),
    weight: Type.Number({ minimum: 0, default: 100 }),
    canary: Type.Boolean({ default: false }),
    // Name of the env variable holding the upstream's API key; the key itself never sits in the file.
    apiKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
  },
  { additionalProperties: false },
);

export const ModelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    deployments: Type.Array(DeploymentSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const ClickHouseSchema = Type.Object(
  {
    url: Url,
    database: Type.String({ default: 'tunewatch', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
    username: Type.String({ default: 'default' }),
    // The password is read from this env variable, never from the file.
    passwordEnv: Type.String({ default: 'CLICKHOUSE_PASSWORD' }),
    cluster: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
        upstreamTimeoutMs: Type.Integer({ minimum: 1, default: 120_000 }),
        connectTimeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
        // Per-upstream keep-alive connections held by the undici pool.
        upstreamConnections: Type.Integer({ minimum: 1, default: 128 }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        path: Type.String({ default: './data' }),
        retentionDays: Type.Integer({ minimum: 1, default: 30 }),
        clickhouse: Type.Optional(ClickHouseSchema),
      },
      { additionalProperties: false, default: {} },
    ),
    capture: Type.Object(
      {
        queueSize: Type.Integer({ minimum: 1, default: 20_000 }),
        batchSize: Type.Integer({ minimum: 1, default: 1_000 }),
        flushIntervalMs: Type.Integer({ minimum: 1, default: 1_000 }),
        maxRetries: Type.Integer({ minimum: 0, default: 3 }),
        retryBaseMs: Type.Integer({ minimum: 1, default: 200 }),
        replayIntervalMs: Type.Integer({ minimum: 1, default: 5_000 }),
        spillMaxBytes: Type.Integer({ minimum: 0, default: 512 * 1024 * 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        // Client API keys, stored as SHA-256 hex digests (`tunewatch keys hash` prints one).
        apiKeys: Type.Array(
          Type.Object(
            { id: Type.String({ minLength: 1 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
            { additionalProperties: false },
          ),
          { default: [] },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    models: Type.Array(ModelSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ModelConfig = Static<typeof ModelSchema>;
export type DeploymentConfig = Static<typeof DeploymentSchema>;
export type ClickHouseConfig = Static<typeof ClickHouseSchema>;
export type Role = 'baseline' | 'canary';

export const roleOf = (d: DeploymentConfig): Role => (d.canary ? 'canary' : 'baseline');
