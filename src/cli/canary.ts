// `tunewatch canary …`: the canary rollout's control, through a running server's admin API (the
// same words as POST /api/canary/:model/<action>).
import type { Command } from 'commander';
import type { CanaryView } from '../canary/controller.js';
import { MANUAL_ACTIONS } from '../canary/states.js';
import type { Decision } from '../store/canary-log.js';
import { controlCall, printAnswer, type ControlOptions } from './admin-client.js';

type ClientOptions = ControlOptions;

const fixed = (n: number | null | undefined, digits = 3) => (n === null || n === undefined ? '-' : n.toFixed(digits));

/** The verdict table: one line per metric, as Kayenta's report shows it. */
export function formatCanary(v: CanaryView): string {
  const head = `${v.model}: baseline ${v.baseline}, canary ${v.canary || '-'} at ${v.weight}% (step ${v.step + 1}), ${v.state}\n${formatGateLine(v)}`;
  if (!v.lastAnalysis) return `${head}\nno analysis yet`;
  const a = v.lastAnalysis;
  const rows = a.metrics.map((m) =>
    [m.name.padEnd(20), fixed(m.baseline).padStart(9), fixed(m.canary).padStart(9), fixed(m.effect, 4).padStart(9), (m.interval ? `[${fixed(m.interval[0], 3)}, ${fixed(m.interval[1], 3)}]` : '-').padStart(18), (m.pValue === null ? '-' : m.pValue.toExponential(1)).padStart(8), m.classification].join(' '),
  );
  return [head, `last analysis: ${a.verdict}, score ${a.score.toFixed(0)}`, `${'metric'.padEnd(20)} ${'baseline'.padStart(9)} ${'canary'.padStart(9)} ${'effect'.padStart(9)} ${'interval'.padStart(18)} ${'p'.padStart(8)} class`, ...rows].join('\n');
}

/** The canary version's release gate, one line. */
export function formatGateLine(v: Pick<CanaryView, 'gate' | 'requireGate' | 'canary'>): string {
  const required = v.requireGate ? ' (required: rollout.requireGate)' : '';
  const latest = v.gate?.latest;
  if (!latest) return `release gate: ${v.canary ? 'no gate run recorded for this version' : 'no canary'}${required}`;
  const passed = latest.verdict !== 'pass' && v.gate?.passed ? '; an earlier run passed' : '';
  return `release gate: ${latest.verdict}, score ${latest.score.toFixed(0)} on ${latest.goldenItems} golden items vs ${latest.baseline} (${latest.id}, ${new Date(latest.ts).toISOString()})${passed}${required}`;
}

export function formatHistory(decisions: Decision[]): string {
  if (decisions.length === 0) return 'no decisions yet';
  return decisions
    .map((d) => `${new Date(d.ts).toISOString()}  ${d.action.padEnd(9)} ${d.state.padEnd(12)} ${String(d.weight).padStart(5)}%  ${d.canary.padEnd(10)} ${d.verdict || '-'} ${d.actor}`)
    .join('\n');
}

export function registerCanaryCommand(program: Command, withClientOptions: (c: Command) => Command): void {
  const canary = program.command('canary').description('canary rollouts: status, history, promote, rollback, pause, resume, start (through a running server)');
  const print = printAnswer;
  const call = controlCall;
  const model = (m: string) => `/api/canary/${encodeURIComponent(m)}`;

  withClientOptions(canary.command('status').description('each model\'s rollout (or one model\'s) with the last verdict table').argument('[model]'))
    .option('--json', 'print the API answer')
    .action(async (m: string | undefined, opts: ClientOptions) => {
      if (m) {
        const view = await call<CanaryView>(opts, model(m));
        return print(opts, view, () => formatCanary(view));
      }
      const all = await call<{ canaries: CanaryView[] }>(opts, '/api/canary');
      print(opts, all, () => all.canaries.map(formatCanary).join('\n\n') || 'no model has a rollout plan');
    });
  withClientOptions(canary.command('history').description('a model\'s rollout decisions, newest first').argument('<model>'))
    .option('--json', 'print the API answer')
    .action(async (m: string, opts: ClientOptions) => {
      const body = await call<{ decisions: Decision[] }>(opts, `${model(m)}/history`);
      print(opts, body, () => formatHistory(body.decisions));
    });
  for (const action of MANUAL_ACTIONS) {
    withClientOptions(canary.command(action).description(`${action} a model's canary now`).argument('<model>'))
      .option('--json', 'print the API answer')
      .action(async (m: string, opts: ClientOptions) => {
        const view = await call<CanaryView>(opts, `${model(m)}/${action}`, {});
        print(opts, view, () => formatCanary(view));
      });
  }
  withClientOptions(canary.command('start').description('start a rollout of VERSION (a deployment of MODEL) at the first step').argument('<model>').argument('<version>'))
    .option('--json', 'print the API answer')
    .action(async (m: string, version: string, opts: ClientOptions) => {
      const view = await call<CanaryView>(opts, `${model(m)}/start`, { version });
      print(opts, view, () => formatCanary(view));
    });
}
