// Samples with their effective verdicts: what /api/samples answers and the status page shows.
import { SLIS, type Sli } from '../evaluate/types.js';
import type { Store } from '../store/client.js';
import { listSamples, type SampleFilter } from '../store/queries.js';
import { verdictDetails, type VerdictView } from '../store/verdicts.js';

const NOT_EVALUATED: Pick<VerdictView, 'verdict' | 'reason' | 'source'> = { verdict: 'unknown', reason: 'not evaluated', source: 'auto' };

/** Every SLI present in the answer, `unknown` where no evaluator gave a verdict (errors, embeddings). */
function verdictsOf(found: Partial<Record<Sli, VerdictView>> | undefined) {
  return Object.fromEntries(SLIS.map((sli) => [sli, found?.[sli] ?? NOT_EVALUATED]));
}

/** Samples as /api/samples answers them: each with its effective verdict per SLI (the status page shows the same). */
export async function samplesWithVerdicts(store: Store, filter: SampleFilter): Promise<(Record<string, unknown> & { verdicts: Record<string, Pick<VerdictView, 'verdict' | 'reason' | 'source'>> })[]> {
  const rows = await listSamples(store, filter);
  const verdicts = await verdictDetails(store, rows.map((r) => String(r.request_id)));
  return rows.map((r) => ({ ...r, verdicts: verdictsOf(verdicts.get(String(r.request_id))) }));
}
