// Table names, defined once. Migrations create them; every query imports them from here.
export const TABLES = {
  migrations: 'schema_migrations',
  samples: 'samples',
  samplesRollup: 'samples_rollup_1m',
} as const;
