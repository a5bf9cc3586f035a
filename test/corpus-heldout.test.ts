// The held-out half of the evaluator corpus (test/fixtures/corpus/test.jsonl, see its README): cases
// written apart from the code and never used to tune it. Prints, per SLI, the confusion matrix and
// precision and recall for `bad` overall and per failure class. The target is 0.9 (issue 12); the SLIs
// that do not reach it yet are held to the figures last measured, so a change that makes them worse
// fails, and the floor is raised as they improve (never lowered). Tuning happens on dev.jsonl only
// (`npx tunewatch eval test/fixtures/corpus/dev.jsonl --misses`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agreement, expectations, judgeCase, parseCases } from '../src/evaluate/offline.js';
import { SLIS, type Sli } from '../src/evaluate/types.js';

const TARGET = 0.9;
/**
 * [precision, recall] for `bad` below which a change is a regression: the target, or the last measured
 * figures (rounded down) where they fall short. Held per part of the test half, so a batch added later
 * (ids `w6-`, written in the session of 2026-12-03 and never read by whoever tunes the code) gets
 * floors of its own and the first part's floors are never lowered.
 */
const FLOORS: Record<string, Record<Sli, [number, number]>> = {
  first: { instruction_success: [0.9, 0.9], safe_response: [0.93, 0.78], hallucination_free: [0.83, 0.77] },
  w6: { instruction_success: [0.9, 0.9], safe_response: [0.86, 0.65], hallucination_free: [0.89, 0.72] },
};
const partOf = (id: string) => (id.startsWith('w6-') ? 'w6' : 'first');
const raw = readFileSync(join(import.meta.dirname, 'fixtures', 'corpus', 'test.jsonl'), 'utf8');
const cases = parseCases(raw);
const classes = raw.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: string; sli: Sli; class: string; context_id: string });
const results = cases.map((c) => ({ expect: expectations(c), verdicts: judgeCase(c) }));
const figures = agreement(results);

/** Per failure class: the share of its cases judged `bad` (recall), and for good classes the share wrongly judged `bad`. */
function perClass(sli: Sli): string[] {
  const rows = new Map<string, { n: number; bad: number; label: string }>();
  cases.forEach((c, i) => {
    const label = expectations(c)[sli];
    if (!label || classes[i].sli !== sli) return;
    const verdict = results[i].verdicts.find((v) => v.sli === sli)!.verdict;
    const row = rows.get(classes[i].class) ?? { n: 0, bad: 0, label };
    row.n += 1;
    if (verdict === 'bad') row.bad += 1;
    rows.set(classes[i].class, row);
  });
  return [...rows].map(([name, r]) =>
    r.label === 'bad' ? `  ${name.padEnd(20)} bad, caught ${r.bad}/${r.n} (recall ${(r.bad / r.n).toFixed(2)})` : `  ${name.padEnd(20)} ${r.label}, judged bad ${r.bad}/${r.n}`,
  );
}

describe('held-out corpus (test half)', () => {
  it('is split by context from the development half and is large enough', () => {
    const dev = readFileSync(join(import.meta.dirname, 'fixtures', 'corpus', 'dev.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { context_id: string });
    const devContexts = new Set(dev.map((d) => d.context_id));
    expect(classes.filter((c) => devContexts.has(c.context_id))).toEqual([]);
    expect(dev.length + classes.length).toBeGreaterThanOrEqual(150 + 60 + 60);
  });

  it.each(SLIS.map((s) => [s]))('%s: precision and recall for `bad` hold their floor (target 0.9)', (sli) => {
    const f = figures.find((x) => x.sli === sli)!;
    const matrix = (['good', 'bad', 'unknown'] as const).map((label) => `  ${label.padEnd(8)} ${(['good', 'bad', 'unknown'] as const).map((v) => String(f.confusion[label][v]).padStart(6)).join('')}`);
    console.log(
      [
        `${sli}: ${f.n} cases, agreement ${((f.agreement ?? 0) * 100).toFixed(1)}%, bad precision ${f.precisionBad?.toFixed(2)}, recall ${f.recallBad?.toFixed(2)}` +
          ` (target ${TARGET}${Math.min(f.precisionBad ?? 0, f.recallBad ?? 0) >= TARGET ? ', met' : ', not met yet'})`,
        '  label \\ verdict  good   bad  unknown',
        ...matrix,
        ...perClass(sli),
      ].join('\n'),
    );
    for (const part of Object.keys(FLOORS)) {
      const own = results.filter((_, i) => partOf(classes[i].id) === part);
      const p = agreement(own).find((x) => x.sli === sli)!;
      console.log(`  part ${part}: ${p.n} cases, bad precision ${p.precisionBad?.toFixed(2)}, recall ${p.recallBad?.toFixed(2)}`);
      const [precision, recall] = FLOORS[part][sli].map((x) => Math.min(x, TARGET));
      expect(p.precisionBad, `${sli} precision, part ${part}`).toBeGreaterThanOrEqual(precision);
      expect(p.recallBad, `${sli} recall, part ${part}`).toBeGreaterThanOrEqual(recall);
    }
  });
});
