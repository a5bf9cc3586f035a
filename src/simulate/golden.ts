// A golden set for the simulated upstreams: distinct support prompts with the demo's spec, context
// and a reference answer, for the gate's tests and `npm run bench:gate`. Deterministic.
import type { GoldenItem } from '../gate/golden.js';

const SUBJECTS = ['password reset', 'billing fix', 'runbook update', 'on-call rota', 'damaged order', 'database migration', 'API key rotation', 'payments outage', 'invoice export', 'login timeout', 'refund request', 'shipping delay'];
const VERBS = ['Summarise', 'List the action items for', 'Write the next steps for', 'Extract the follow-ups from'];

export function simulatedGolden(n: number): GoldenItem[] {
  return Array.from({ length: n }, (_, i) => {
    const subject = SUBJECTS[i % SUBJECTS.length]!;
    const verb = VERBS[Math.floor(i / SUBJECTS.length) % VERBS.length]!;
    return {
      id: `sim-${String(i).padStart(4, '0')}`,
      messages: [
        { role: 'system', content: 'You are a support assistant. Answer with a heading "Action items:" and bullet points.' },
        { role: 'user', content: `Case ${7000 + i}: ${verb} the ${subject} ticket (customer ${i % 97}, team ${i % 13}).` },
      ],
      spec: 'action-items',
      context: `Case ${7000 + i} is about the ${subject} and was opened by customer ${i % 97}.`,
      reference: `Action items:\n- Review the ${subject}\n- Follow up on the ${subject} ticket with the team`,
      tags: ['simulated', subject.replace(/ /g, '-')],
    };
  });
}
