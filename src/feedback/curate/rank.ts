// Which of two items is the better training example: one ordering for best-of-cluster (dedupe.ts)
// and for what a balance cap keeps (balance.ts). Pure.
import { SOURCE_RANK, type VerdictSource } from '../../evaluate/types.js';
import type { CurationItem } from '../types.js';

/** The item's label source: `human` for a correction, else the highest-ranked source of its failing verdicts. */
export function labelSource(item: CurationItem): VerdictSource {
  if (item.target?.from === 'correction') return 'human';
  let best: VerdictSource = 'auto';
  for (const f of item.failures) if (SOURCE_RANK[f.source] > SOURCE_RANK[best]) best = f.source;
  return best;
}

const rankOf = (item: CurationItem, blocked?: ReadonlySet<string>): number[] => [
  blocked?.has(item.requestId) ? 0 : 1,
  item.target?.from === 'correction' ? 1 : 0,
  item.target !== null ? 1 : 0,
  item.state === 'ready' ? 1 : 0,
  SOURCE_RANK[labelSource(item)],
  item.sampleTs,
];

/**
 * Best first: exportable (not in `blocked`, i.e. no PII left), a human correction, any target, ready
 * over needs_correction, the higher-ranked label source, the newest sample; ties by request id, so the
 * order never depends on the order items arrived in.
 */
export function bestFirst(blocked?: ReadonlySet<string>): (a: CurationItem, b: CurationItem) => number {
  return (a, b) => {
    const ra = rankOf(a, blocked);
    const rb = rankOf(b, blocked);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
    return a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0;
  };
}
