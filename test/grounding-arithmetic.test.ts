// Figures an answer works out from figures it states: accepted when the arithmetic holds, flagged when it does not.
import { describe, it, expect } from 'vitest';
import { evaluateHallucination } from '../src/evaluate/hallucination.js';
import { workedOut } from '../src/evaluate/grounding/arithmetic.js';
import { parseClaims } from '../src/evaluate/grounding/claims.js';
import { isValueClaim } from '../src/evaluate/grounding/support.js';

const judge = (answer: string, context: string) =>
  evaluateHallucination({ messages: [{ role: 'user', content: 'What does it say?' }], response: answer, responseFormat: 'text', context });

/** Whether the claim written `target` in `sentence` is worked out from the sentence's other figures. */
function derived(sentence: string, target: string): boolean {
  const claims = parseClaims(sentence).filter(isValueClaim);
  const claim = claims.find((c) => sentence.slice(c.at, c.end) === target || c.text === target);
  if (!claim) throw new Error(`no claim "${target}" in "${sentence}": ${claims.map((c) => c.text).join(', ')}`);
  return workedOut(claim, claims, sentence);
}

describe('workedOut: a figure derived from the figures beside it', () => {
  it.each([
    ['a difference of two amounts', 'An extra bag costs €45 online against €70 at the counter, a saving of €25.', '€25'],
    ['a difference in another unit of the same currency', 'The charge goes up by 30p, from £1.20 to £1.50.', '30p'],
    ['a sum of two amounts', 'The bill is £120 for the room and £30 for breakfast, £150 altogether.', '£150'],
    ['plain parts adding up to a stated duration', 'About 55 minutes in total: 20 to prepare and 35 to cook.', '55 minutes'],
    ['the span between two times of day', 'Error rates recovered at 14:50, nineteen minutes after the failover at 14:31.', 'nineteen minutes'],
    ['the span between two years', 'It was re-roofed in 2021, two years after the rewiring in 2019.', 'two years'],
    ['an amount times a count', 'The cluster has 512 GPUs: 64 nodes with 8 each.', '512 GPUs'],
    ['an amount times two small counts', 'At €2.60 per person per night, two adults over three nights pay €15.60.', '€15.60'],
    ['a rate times what it is per', '£5,000 per megawatt a year, which at 40.5 MW comes to £202,500.', '£202,500'],
    ['an amount shared out', 'The rental is €266 for 7 days, so €38 a day.', '€38'],
  ])('%s', (_name, sentence, target) => {
    expect(derived(sentence, target)).toBe(true);
  });

  it.each([
    ['a wrong difference', 'An extra bag costs €45 online against €70 at the counter, a saving of €35.', '€35'],
    ['a wrong span between times', 'Error rates recovered at 14:50, twenty-five minutes after the failover at 14:31.', 'twenty-five minutes'],
    ['amounts in another unit do not add up to it', 'The bag weighs 20 kg and the fee is €35, so €55.', '€55'],
    ['no figures beside it', 'The outage lasted 38 minutes.', '38 minutes'],
  ])('not %s', (_name, sentence, target) => {
    expect(derived(sentence, target)).toBe(false);
  });
});

describe('the grounding verdict with worked-out figures', () => {
  const context = 'Checked bags cost €45 when booked online and €70 at the airport counter. The failover started at 14:31 UTC and error rates were back to baseline by 14:50 UTC.';

  it('accepts a figure worked out from supported figures', () => {
    expect(judge('Booking online costs €45 instead of €70 at the counter, a saving of €25.', context)).toMatchObject({ verdict: 'good' });
    expect(judge('Error rates were back at 14:50 UTC, nineteen minutes after the failover started at 14:31.', context)).toMatchObject({ verdict: 'good' });
  });

  it('still flags a worked-out figure that is wrong, and names it', () => {
    const v = judge('Booking online costs €45 instead of €70 at the counter, a saving of €30.', context);
    expect(v.verdict).toBe('bad');
    expect(v.reason).toContain('"€30"');
  });

  it('does not accept the operands themselves when they are not in the context', () => {
    const v = judge('Booking online costs €40 instead of €65 at the counter, a saving of €25.', context);
    expect(v.verdict).toBe('bad');
    expect(v.reason).toContain('"€40"');
    expect(v.reason).toContain('"€65"');
  });
});
