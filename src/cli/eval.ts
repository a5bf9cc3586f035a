// `tunewatch eval FILE.jsonl`: the evaluators offline on a team's own labelled cases, with agreement
// and a confusion matrix per SLI, so a team can see how far to trust each verdict on its traffic.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Agreement, OfflineOptions } from '../evaluate/offline.js';
import { VERDICTS } from '../evaluate/types.js';
import { CliError, configFile } from './errors.js';

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const two = (v: number | null) => (v === null ? '–' : v.toFixed(2));

export function formatAgreement(rows: Agreement[]): string {
  return rows
    .filter((r) => r.n > 0)
    .map((r) =>
      [
        `${r.sli}: ${r.n} labelled, agreement ${pct(r.agreement)}, bad precision ${two(r.precisionBad)}, recall ${two(r.recallBad)}`,
        `  ${'label \\ verdict'.padEnd(16)}${VERDICTS.map((v) => v.padStart(9)).join('')}`,
        ...VERDICTS.map((e) => `  ${e.padEnd(16)}${VERDICTS.map((g) => String(r.confusion[e][g]).padStart(9)).join('')}`),
      ].join('\n'),
    )
    .join('\n\n') || 'no labelled cases (give each case an expect)';
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('run the evaluators offline on a JSONL of {messages, answer, context?, spec?, expect?} and print agreement and a confusion matrix per SLI')
    .argument('<file>')
    .option('-c, --config <file>', 'a config whose specs and evaluation settings to use (for specs named by name)')
    .option('--json', 'print the figures as JSON')
    .option('--misses', 'also list each case whose verdict differs from its label, with the evaluator\'s reason')
    .action(async (file: string, opts: { config?: string; json?: boolean; misses?: boolean }) => {
      // The evaluators load only for this command: the admin clients start faster without them.
      const [{ agreement, expectations, judgeCase, parseCases }, { compileSpecs }] = await Promise.all([import('../evaluate/offline.js'), import('../evaluate/evaluator.js')]);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
      }
      let cases;
      try {
        cases = parseCases(text);
      } catch (err) {
        throw new CliError(`${file}: ${(err as Error).message}`);
      }
      const options: OfflineOptions = {};
      if (opts.config) {
        const config = await configFile(opts.config);
        Object.assign(options, { specs: compileSpecs(config), maxUnsupportedRatio: config.evaluation.hallucination.maxUnsupportedRatio, toxicityLexicon: config.evaluation.toxicityLexicon });
      }
      const results = cases.map((c) => {
        try {
          return { id: c.id, expect: expectations(c), verdicts: judgeCase(c, options) };
        } catch (err) {
          throw new CliError(`${file}: ${(err as Error).message}`);
        }
      });
      const figures = agreement(results);
      if (opts.json) return console.log(JSON.stringify({ cases: results.length, slis: figures }, null, 2));
      console.log(`${results.length} cases from ${file}\n\n${formatAgreement(figures)}`);
      if (opts.misses) {
        const misses = results.flatMap((r) => r.verdicts.filter((v) => r.expect[v.sli] && r.expect[v.sli] !== v.verdict).map((v) => `  ${r.id ?? '?'} ${v.sli}: labelled ${r.expect[v.sli]}, judged ${v.verdict} (${v.reason})`));
        console.log(`\nmisses (${misses.length}):\n${misses.join('\n') || '  none'}`);
      }
    });
}
