// The canary decision log (canary_decisions): appended to, never updated. A model's current
// rollout state is its latest row.
import type { CanaryAction, CanaryStateName, RolloutState } from '../canary/states.js';
import { insertRows, type Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

/** One decision: the state it led to, what was done, by whom, and on what evidence. */
export interface Decision extends RolloutState {
  action: CanaryAction;
  /** `controller` for automatic decisions; `api`, `cli:<user>` or the admin caller for manual ones. */
  actor: string;
  verdict: string;
  score: number;
  reason: string;
  /** The analysis the decision rests on (JSON), '' when none. */
  analysis: string;
}

/** A row as read: the columns are the decision's fields (step_started in the table's spelling). */
type Row = Omit<Decision, 'stepStarted'> & { step_started: number };

const COLUMNS = `toUnixTimestamp64Milli(ts) AS ts, model, baseline, canary, weight, step, state, action, actor, verdict, score, reason, analysis,
  toUnixTimestamp64Milli(started) AS started, toUnixTimestamp64Milli(step_started) AS step_started`;

// Numbers arrive as numbers (output_format_json_quote_64bit_integers = 0).
function fromRow({ step_started, ...rest }: Row): Decision {
  return { ...rest, stepStarted: step_started };
}

export async function appendDecision(store: Store, d: Decision): Promise<void> {
  const { stepStarted, ...rest } = d;
  await insertRows(store, TABLES.canaryDecisions, [{ ...rest, step_started: stepStarted }]);
}

/** The latest decision per model: each model's current rollout state. */
export async function latestDecisions(store: Store): Promise<Map<string, Decision>> {
  const rs = await store.client.query({
    query: `SELECT ${COLUMNS} FROM ${TABLES.canaryDecisions} ORDER BY model, ts DESC LIMIT 1 BY model`,
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return new Map((await rs.json<Row>()).map((r) => [r.model, fromRow(r)]));
}

/** A model's decisions, newest first. */
export async function decisionHistory(store: Store, model: string, limit = 200): Promise<Decision[]> {
  const rs = await store.client.query({
    query: `SELECT ${COLUMNS} FROM ${TABLES.canaryDecisions} WHERE model = {model:String} ORDER BY ts DESC LIMIT {limit:UInt32}`,
    query_params: { model, limit },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return (await rs.json<Row>()).map(fromRow);
}
