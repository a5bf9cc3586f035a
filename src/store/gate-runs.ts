// The release-gate log (gate_runs): appended by `tunewatch gate --record`, read by the canary
// controller (the gate result beside a canary, and rollout.requireGate).
import { createHash } from 'node:crypto';
import type { GateAnalysis, GateVerdict } from '../gate/types.js';
import { insertRows, type Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

export interface GateRunMetric {
  name: string;
  classification: string;
  baseline: number | null;
  candidate: number | null;
  effect: number | null;
  interval: [number, number] | null;
}

export interface GateRun {
  ts: number;
  id: string;
  model: string;
  /** The candidate's version (or its URL when it is not a deployment of the model). */
  candidate: string;
  candidateUrl: string;
  baseline: string;
  goldenSha256: string;
  goldenItems: number;
  verdict: GateVerdict;
  score: number;
  reason: string;
  metrics: GateRunMetric[];
  actor: string;
}

export interface GateRunInput {
  model: string;
  candidate: { version: string; url: string };
  baseline: { version: string };
  golden: { sha256: string; items: number };
  analysis: GateAnalysis;
  actor: string;
  ts?: number;
}

export async function recordGateRun(store: Store, r: GateRunInput): Promise<GateRun> {
  const ts = r.ts ?? Date.now();
  const id = `gate-${createHash('sha256').update(`${r.model}\u0000${r.candidate.version}\u0000${r.golden.sha256}\u0000${ts}`).digest('hex').slice(0, 16)}`;
  const metrics: GateRunMetric[] = r.analysis.metrics.map((m) => ({ name: m.name, classification: m.classification, baseline: m.baseline, candidate: m.candidate, effect: m.effect, interval: m.interval }));
  const run: GateRun = {
    ts, id, model: r.model, candidate: r.candidate.version, candidateUrl: r.candidate.url, baseline: r.baseline.version, goldenSha256: r.golden.sha256,
    goldenItems: r.golden.items, verdict: r.analysis.verdict, score: r.analysis.score, reason: r.analysis.reason, metrics, actor: r.actor,
  };
  await insertRows(store, TABLES.gateRuns, [{
    ts, id, model: run.model, candidate: run.candidate, candidate_url: run.candidateUrl, baseline: run.baseline, golden_sha256: run.goldenSha256,
    golden_items: run.goldenItems, verdict: run.verdict, score: run.score, reason: run.reason, metrics: JSON.stringify(metrics), actor: run.actor,
  }]);
  return run;
}

type Row = { ts: number; id: string; model: string; candidate: string; candidate_url: string; baseline: string; golden_sha256: string; golden_items: number; verdict: GateVerdict; score: number; reason: string; metrics: string; actor: string };

function fromRow(r: Row): GateRun {
  let metrics: GateRunMetric[] = [];
  try {
    metrics = JSON.parse(r.metrics) as GateRunMetric[];
  } catch {
    // an unreadable metrics column leaves the verdict standing
  }
  return {
    ts: Number(r.ts), id: r.id, model: r.model, candidate: r.candidate, candidateUrl: r.candidate_url, baseline: r.baseline, goldenSha256: r.golden_sha256,
    goldenItems: Number(r.golden_items), verdict: r.verdict, score: Number(r.score), reason: r.reason, metrics, actor: r.actor,
  };
}

/** A version's gate runs, newest first (`onlyPassing`: the passing ones). */
export async function gateRuns(store: Store, model: string, candidate: string, { onlyPassing = false, limit = 20 } = {}): Promise<GateRun[]> {
  const rs = await store.client.query({
    query: `SELECT toUnixTimestamp64Milli(ts) AS ts, id, model, candidate, candidate_url, baseline, golden_sha256, golden_items, verdict, score, reason, metrics, actor
            FROM ${TABLES.gateRuns} WHERE model = {model:String} AND candidate = {candidate:String} ${onlyPassing ? "AND verdict = 'pass'" : ''}
            ORDER BY ts DESC LIMIT {limit:UInt32}`,
    query_params: { model, candidate, limit },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return (await rs.json<Row>()).map(fromRow);
}

/** The latest run and the latest passing run of a version (either may be null). */
export async function gateStatus(store: Store, model: string, candidate: string): Promise<{ latest: GateRun | null; passing: GateRun | null }> {
  const [latest] = await gateRuns(store, model, candidate, { limit: 1 });
  if (!latest || latest.verdict === 'pass') return { latest: latest ?? null, passing: latest ?? null };
  const [passing] = await gateRuns(store, model, candidate, { onlyPassing: true, limit: 1 });
  return { latest, passing: passing ?? null };
}
