// Table names, defined once. Migrations create them; every query imports them from here.
export const TABLES = {
  migrations: 'schema_migrations',
  samples: 'samples',
  samplesRollup: 'samples_rollup_1m',
  evaluations: 'evaluations',
  sliRollup: 'sli_rollup_1m',
  effectiveVerdicts: 'effective_verdicts',
  captureCoverage: 'capture_coverage_1m',
  canaryDecisions: 'canary_decisions',
  retrainQueue: 'retrain_queue',
  retrainJobs: 'retrain_jobs',
  gateRuns: 'gate_runs',
} as const;
