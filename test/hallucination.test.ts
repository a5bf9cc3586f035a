import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HALLUCINATION_EVALUATOR, evaluateHallucination, extractClaims, type Claim } from '../src/evaluate/hallucination.js';
import type { EvalInput } from '../src/evaluate/types.js';

function inputOf(response: string, context: string, user = 'Summarise the document.'): EvalInput {
  return { messages: [{ role: 'user', content: user }], response, responseFormat: 'text', context };
}

const claimsOf = (text: string) => extractClaims(text).map(({ kind, normalized }) => `${kind}:${normalized}`);

describe('extractClaims', () => {
  it('returns kind, text as written and normalized form, in order of appearance', () => {
    const claims: Claim[] = extractClaims('Alan Whitfield founded Acme Corporation in 2019; revenue grew 47% to $1.2 million by March 3, 2021.');
    expect(claims).toEqual([
      { kind: 'name', text: 'Alan Whitfield', normalized: 'alan whitfield' },
      { kind: 'name', text: 'Acme Corporation', normalized: 'acme corporation' },
      { kind: 'date', text: '2019', normalized: '2019' },
      { kind: 'percentage', text: '47%', normalized: '47%' },
      { kind: 'number', text: '$1.2 million', normalized: '1200000 USD' },
      { kind: 'date', text: 'March 3, 2021', normalized: '2021-03-03' },
    ]);
  });

  it.each([
    ['number with unit', 'The parcel weighs 3.5 kg.', ['number:3500 g']],
    ['price', 'It costs $1,200.', ['number:1200 USD']],
    ['scale word, with the noun it counts', 'About 12 million people live there.', ['number:12000000 person']],
    ['distance', 'The trail is 40 km long.', ['number:40000 m']],
    ['time', 'The flight takes 2 hours.', ['number:7200 s']],
    ['a number with the noun it counts', 'There are 250 employees.', ['number:250 employe']],
    ['a bare number of 10 or more', 'The total was 250.', ['number:250']],
    ['a clock time said aloud', 'The check is at twenty to ten.', ['time:09:40']],
    ['a quarter past the hour', 'Doors open at quarter past seven.', ['time:07:15']],
    ['a range with "to" is no clock time', 'Add 5 to 10 grams.', ['number:5-10 g']],
    ['a unit glued to its number', 'It ships in a 40ft container.', ['number:12.192 m']],
    ['a rate with a slash is money, not a reference', 'Plus costs £44.99/month.', ['number:44.99 GBP']],
    ['a unit after a modifier', 'You get five demurrage-free days.', ['number:432000 s']],
    ['an age group is no identifier', 'Under-16s can borrow 10 books.', ['number:10 book']],
    ['ISO date', 'Released 2021-03-03.', ['date:2021-03-03']],
    ['day month year', 'Released on 3 March 2021.', ['date:2021-03-03']],
    ['month and year', 'Released in March 2021.', ['date:2021-03']],
    ['year after a preposition', 'It opened in 2019 and closed after 2020.', ['date:2019', 'date:2020']],
    ['percent sign and word', 'Turnout was 47% (47 percent).', ['percentage:47%']],
    ['quote of three or more words', 'She said "we will double output" and "thanks".', ['quote:we will double output']],
    ['URL', 'See https://www.example.com/docs/ for details.', ['url:example.com/docs']],
    ['name with a middle initial and a title', 'Yesterday Dr. Alan J. Whitfield spoke.', ['name:alan whitfield']],
    ['name with a connector', 'She works at the Bank of America.', ['name:bank of america']],
    ['a possessive ends a name', "New York's Chrysler Building opened.", ['name:new york', 'name:chrysler building']],
    ['list numbering is no claim; small counts of a thing and number words are', '1. Mix the flour.\n2. Add 3 eggs and bake for three minutes.', ['number:3 egg', 'number:180 s']],
    ['versions, ids, times and model names', 'Upgrade to v1.2.3 on GPT-4 before 12:30; see COVID-19 note #12345.', ['identifier:v1.2.3', 'identifier:gpt4', 'time:12:30', 'identifier:covid19', 'identifier:12345']],
    ['sentence-initial words and headings', '## Key Findings\n**Main Results**\nSummary:\nHowever, This Is shouting.', []],
    ['shouted text', 'IMPORTANT NOTE: read this.', []],
    ['fractions and "24/7"', 'Support is 24/7; use 3/4 cup.', []],
    ['code', 'Run `retry(100)` or:\n```\nclass Config Loader:\n  timeout = 30000\n```', []],
    ['a sentence-initial adverb before a name', 'Currently Acme Corporation sells 40 kg bags.', ['name:acme corporation', 'number:40000 g']],
    ['hyphenated number-unit adjectives', 'It has a 3-year warranty, 30-day returns and a 5-minute setup.', ['number:36 month', 'number:2592000 s', 'number:300 s']],
    ['one letter after a hyphen is no unit', 'Wear 3-D glasses at the 4-H club.', []],
    ['business days', 'It ships in 3 business days.', ['number:3 business day']],
    [
      'ranges with a unit',
      'Shipping takes 3-5 business days; cook 10–20 minutes, rest 2 to 3 hours, then wait between 3 and 5 days.',
      ['number:3-5 business day', 'number:600-1200 s', 'number:7200-10800 s', 'number:259200-432000 s'],
    ],
    ['a hyphenated range', 'Choose 3–5-day delivery.', ['number:259200-432000 s']],
    ['bare number ranges stay numbers', 'See rows 10-20.', ['number:10', 'number:20']],
    ['a keyword and a number is an identifier', 'See pages 10-20.', ['identifier:page10', 'number:20']],
    ['a change is not a range', 'It went from 5 to 10 kg.', ['number:10000 g']],
  ])('%s', (_name, text, expected) => {
    expect(claimsOf(text)).toEqual(expected);
  });

  it('counts a repeated claim once', () => {
    expect(claimsOf('It weighs 3.5 kg. Yes, 3.5 kg.')).toEqual(['number:3500 g']);
  });
});

describe('evaluateHallucination', () => {
  it('is unknown without context', () => {
    expect(evaluateHallucination(inputOf('It weighs 3.5 kg.', '  '))).toEqual({
      sli: 'hallucination_free',
      evaluator: HALLUCINATION_EVALUATOR.name,
      evaluatorVersion: HALLUCINATION_EVALUATOR.version,
      verdict: 'unknown',
      score: null,
      reason: 'ungrounded request: no context to check against',
    });
  });

  it('is good when there is nothing to check', () => {
    expect(evaluateHallucination(inputOf('Sure, happy to help with that.', 'Some context.'))).toMatchObject({ verdict: 'unknown', score: null, reason: 'no checkable claims' });
  });

  it('places a value by a neighbour in its clause only when the neighbour is a code', () => {
    const context = 'Employees may work 80% of their hours for 100% of their pay for the first 4 weeks. The BK-200 (1.7 L) and BK-220 (1.2 L) are recalled.';
    expect(evaluateHallucination(inputOf('For the first four weeks back you can work 80% of your hours.', context)).verdict).toBe('good');
    expect(evaluateHallucination(inputOf('The BK-220 holds 1.7 L.', context)).verdict).toBe('bad');
    expect(evaluateHallucination(inputOf('The upload limit is 500 megabytes.', 'Uploads are capped at 500 MB.')).verdict).toBe('good');
  });

  it('reads saying what the source leaves out as no claim, but what it excludes as one', () => {
    const context = 'The policy covers fire and flood. Ferries are not covered.';
    for (const answer of ["The policy doesn't mention earthquakes.", 'Earthquakes are not mentioned anywhere in it.', 'There is no information about earthquakes.'])
      expect(evaluateHallucination(inputOf(answer, context)).verdict, answer).toBe('unknown');
    expect(evaluateHallucination(inputOf('The policy does not cover earthquakes or volcanic ash.', context)).verdict).toBe('bad');
  });

  it('lists the unsupported claims with the share supported as score', () => {
    const context = 'Acme Corporation sells widgets at $1,200 each.';
    const v = evaluateHallucination(inputOf('Alan Whitfield founded Acme Corporation in 2019. Revenue grew 47% and widgets cost $1,200.', context));
    expect(v.verdict).toBe('bad');
    expect(v.reason).toMatch(/^unsupported: "Alan Whitfield", "2019", "47%", "Revenue grew 47% and widgets cost \$1,200\." \(not in the context: revenu, grow, cost\) \(4 of 7 claims\)$/);
    expect(v.score).toBeCloseTo(3 / 7);
  });

  it('tolerates unsupported claims up to maxUnsupportedRatio', () => {
    const input = inputOf('The tower is 330 m tall and was finished in 1889 by Gustave Eiffel, costing $1.5 million.', 'The tower, 330 metres tall, opened in 1889 and was designed by Gustave Eiffel.');
    expect(evaluateHallucination(input)).toMatchObject({ verdict: 'bad', score: 0.8 });
    expect(evaluateHallucination(input, { maxUnsupportedRatio: 0.2 })).toMatchObject({ verdict: 'good', score: 0.8, reason: 'unsupported: "$1.5 million" (1 of 5 claims)' });
  });

  type Case = [name: string, answer: string, context: string];
  const supported: Case[] = [
    ['km restated in m', 'The trail is 1.5 km long.', 'Trail length: 1500 m.'],
    ['hours restated in minutes', 'The trip takes 2 hours.', 'Travel time is 120 minutes.'],
    ['millions spelled out', 'The grant was $1.2 million.', 'Grant amount: $1,200,000.'],
    ['dollars as a word', 'It costs $1,200.', 'Price: 1200 dollars.'],
    ['a fraction as a percentage', 'Half the users (50%) stayed.', 'Retention was 0.5 after a month.'],
    ['a percentage as a fraction', 'Retention was 0.5.', 'Retention was 50%.'],
    ['"half" as 50%', 'Churn fell by 50%.', 'Churn fell by half.'],
    ['percent spelled out', 'Turnout was 47%.', 'Turnout: 47 percent.'],
    ['a unit-less table value', 'The box weighs 40 kg.', 'Weight (kg) | 40'],
    ['same date, other format', 'It launched on March 3, 2021.', 'Launch date: 2021-03-03.'],
    ['day-first date', 'It launched on 3rd March 2021.', 'Launched 03/03/2021.'],
    ['a year inside a full date', 'It launched in 2021.', 'Launch: 3 March 2021.'],
    ['a month inside a full date', 'It launched in March 2021.', 'Launch: March 3, 2021.'],
    ['name in another case', 'Alan Whitfield wrote it.', 'written by alan whitfield'],
    ['name with a middle initial in the context', "Alan Whitfield's report is thorough.", 'Report by Alan J. Whitfield.'],
    ['quote with other case and spacing', 'He said "We   will DOUBLE output next year."', 'he said: we will double output next year, and left.'],
    ['elided quote', 'The memo says "costs will rise ... in the second quarter".', 'Costs will rise sharply, mainly in the second quarter.'],
    ['URL by host and path', 'Docs: https://example.com/api/v2/', 'See www.example.com/api/v2 for more.'],
    ['a hyphenated unit restated', 'It has a 3-year warranty.', 'Warranty: 3 years.'],
    ['a range in other words and units', 'It takes between 2 and 3 hours.', 'It takes 120-180 minutes.'],
    ['a range with "to" and with a dash', 'Delivery takes 3 to 5 business days.', 'Delivery: 3-5 business days.'],
    ['an end of a range', 'Delivery takes up to 5 business days.', 'Delivery: 3-5 business days.'],
    ['hours and minutes summed', 'Customer impact lasted 154 minutes.', 'The outage gave a total customer impact of 2 hours 34 minutes.'],
    ['a fraction of an hour in words', 'The repair takes three quarters of an hour.', 'The repair takes 45 minutes.'],
    ['pence written "p"', 'Mileage is paid at 45 pence per mile.', 'Mileage is paid at 45p per mile.'],
    ['a year as days', 'Audit logs are kept for one year.', 'Audit logs are kept for 365 days.'],
    ['the same email address in capitals', 'Write to Travel@Harbourline.example.', 'Questions go to travel@harbourline.example.'],
    ['a bracketed id with its item', 'QDB-3340 fixed the wrong results for LEFT JOIN with LIMIT.', 'Fixes: a crash when vacuuming large tables (QDB-3312); wrong results for LEFT JOIN with LIMIT (QDB-3340).'],
  ];
  it.each(supported)('supports %s', (_name, answer, context) => {
    const v = evaluateHallucination(inputOf(answer, context));
    expect({ verdict: v.verdict, reason: v.reason }).toEqual({ verdict: 'good', reason: expect.stringMatching(/^all \d+ claims? supported$/) });
  });

  it('checks the values of a JSON answer, not its syntax', () => {
    const response = JSON.stringify({ summary: 'Revenue grew 47% in 2019', owner: 'Alan Whitfield', staff: 250 });
    const input = { ...inputOf(response, 'Alan Whitfield owns it; 250 staff; revenue grew 47 percent in 2019.'), responseFormat: 'json_object' as const };
    expect(evaluateHallucination(input)).toMatchObject({ verdict: 'good', reason: 'all 5 claims supported' });
    expect(evaluateHallucination({ ...input, context: 'Alan Whitfield owns it.' })).toMatchObject({ verdict: 'bad', reason: 'unsupported: "47%", "2019", "250" (3 of 5 claims)' });
  });

  it('accepts claims that come from the prompt', () => {
    expect(evaluateHallucination(inputOf('Your budget of $4,500 covers it.', 'Prices: $3,000 per seat.', 'My budget is $4500.')).verdict).toBe('good');
  });

  const unsupported: Case[] = [
    ['another number', 'It weighs 42 kg.', 'It weighs 40 kg.'],
    ['same number, other dimension', 'The trail is 40 kg.', 'The trail is 40 km.'],
    ['a wrong conversion', 'The trail is 1.5 km.', 'The trail is 150 m.'],
    ['another day', 'It launched on March 4, 2021.', 'Launch date: 2021-03-03.'],
    ['a more specific date', 'It launched on March 3, 2021.', 'It launched in 2021.'],
    ['another year', 'Founded in 2018.', 'Founded in 2019.'],
    ['another name', 'Alan Whitman wrote it.', 'Written by Alan Whitfield.'],
    ['a made-up quote', 'He said "we will triple output".', 'He said we will double output.'],
    ['another URL path', 'See https://example.com/api/v3.', 'See https://example.com/api/v2.'],
    ['another hyphenated unit', 'It comes with a 3-year limited warranty.', 'Warranty: 2-year limited warranty.'],
    ['another range whose ends occur elsewhere', 'Standard shipping takes 2-3 business days.', 'Standard: 3-5 business days. Express: 1-2 business days.'],
    ['a wider range', 'Bake for 10-20 minutes.', 'Bake for 10 to 15 minutes.'],
    ['calendar days for business days', 'Delivery takes 3-5 days.', 'Delivery takes 3-5 business days.'],
    ['one part of a duration', 'Customer impact lasted 2 hours.', 'The outage gave a total customer impact of 2 hours 34 minutes.'],
    ['a year for a different count of days', 'Audit logs are kept for one year.', 'Audit logs are kept for 90 days.'],
    ['a reference with slashes changed', 'The planning reference is PA/24/0971.', 'Planning application PA/24/0917 was deferred.'],
    ['another email address', 'Email the travel desk at travel-desk@harbourline.example.', 'Questions go to the travel desk: travel@harbourline.example.'],
    ['a bracketed id of another item', 'QDB-3312 fixed the wrong results for LEFT JOIN with LIMIT.', 'Fixes: a crash when vacuuming large tables (QDB-3312); wrong results for LEFT JOIN with LIMIT (QDB-3340).'],
    ['a fraction of an hour that is not the one stated', 'The repair takes half an hour.', 'The repair takes 45 minutes.'],
  ];
  it.each(unsupported)('rejects %s', (_name, answer, context) => {
    expect(evaluateHallucination(inputOf(answer, context)).verdict).toBe('bad');
  });

  const HOTEL = 'Room 412 is a superior double with a courtyard view. Breakfast is served from 6:30. Pets are not allowed. Parking costs 22 euros per day.';
  it("does not take the question's words as facts: a claim about what only the question names is unsupported", () => {
    const v = evaluateHallucination(inputOf('Yes, the Wi-Fi is free throughout the hotel lobby.', HOTEL, 'Is the Wi-Fi free?'));
    expect(v.verdict).toBe('bad');
    expect(v.reason).toMatch(/not in the context: .*wi/);
    // What the user states is still evidence.
    expect(evaluateHallucination(inputOf('Your Wi-Fi router is a Zephyr unit.', HOTEL, 'My Wi-Fi router is a Zephyr unit. Which one is it?')).verdict).toBe('good');
  });

  it.each([
    ['an "un-" word denies its base', 'Yes, the attacker has to be authenticated to trigger the overflow.', 'A remote, unauthenticated attacker can trigger the overflow in the decoder.'],
    ['a positive claim against an "un-" form', 'The daily rate includes limited mileage for the car.', 'The daily rate includes unlimited mileage for the car.'],
    ['a condition after "as long as" leaves the main claim to be judged', 'Bags over 32 kg are accepted as long as you pay the overweight fee.', 'Bags over 32 kg are not accepted. The overweight fee is 65 euros for bags of 23 to 32 kg.'],
  ])('finds a contradiction: %s', (_name, answer, context) => {
    const v = evaluateHallucination(inputOf(answer, context));
    expect(v.verdict).toBe('bad');
    expect(v.reason).toMatch(/opposite|negate/);
  });

  it('finds a "non-" or "un-" form the answer drops, and keeps one both say', () => {
    const context = 'Room: Superior Double, room 412, non-smoking, courtyard view. Unwanted medicines can be returned to the counter.';
    expect(evaluateHallucination(inputOf('Room 412 is a smoking room with a courtyard view.', context)).reason).toMatch(/opposite \(not smok/);
    expect(evaluateHallucination(inputOf('You can return unwanted medicines to the counter.', context)).verdict).toBe('good');
  });

  it.each([
    ['a bound', 'Jobs can use no more than 8 GPUs per job.', 'The long partition allows at most 8 GPUs per job.'],
    ['a price', 'Old medicines are disposed of free of charge.', 'Old medicines are disposed of at no charge.'],
    ['an elliptical "not for"', 'Not for a non-urgent claim: those are handled on weekdays.', 'Non-urgent claims are handled on weekdays.'],
  ])('does not read %s as a negation', (_name, answer, context) => {
    expect(evaluateHallucination(inputOf(answer, context)).verdict).toBe('good');
  });

  it.each([
    ['an idiom for a denial', 'Yes, the council approved the Orchard Lane homes.', 'The Orchard Lane application was put on hold by the council.'],
    ['an exemption', 'Blue-badge holders will now pay the hourly parking rate.', 'Blue-badge holders remain exempt from the hourly parking rate.'],
  ])('finds a contradiction in %s', (_name, answer, context) => {
    expect(evaluateHallucination(inputOf(answer, context)).verdict).toBe('bad');
  });

  it('keeps "under", "unit" and "unique" as words of their own, not negations', () => {
    const context = 'Each unit ships under a unique serial number. The united team signed off.';
    expect(evaluateHallucination(inputOf('Each unit ships under a unique serial number.', context)).verdict).toBe('good');
  });

  it("reads polarity from the part of a clause the answer shares: a negative main clause does not deny its reason", () => {
    const context = 'The court found the termination unlawful because the council gave 14 days of notice instead of the 90 days required by clause 18.3.';
    expect(evaluateHallucination(inputOf('Clause 18.3 required 90 days of notice.', context)).verdict).toBe('good');
  });
});

// ---------- properties ----------

const FIRST = ['Alan', 'Maria', 'Kenji', 'Fatima', 'Olu', 'Grace'];
const LAST = ['Whitfield', 'Okafor', 'Tanaka', 'Haddad', 'Lindqvist', 'Moreau'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const int = (min: number, max: number) => fc.integer({ min, max });
const name = fc.tuple(fc.constantFrom(...FIRST), fc.constantFrom(...LAST)).map(([f, l]) => `${f} ${l}`);
const money = int(10, 99_999).map((n) => `$${n.toLocaleString('en-US')}`);

/** Sentences with every kind of claim; numbers stay below 100,000 so bigger ones are never in the context. */
const sentence = fc.oneof(
  fc.tuple(name, int(1950, 2024)).map(([n, y]) => `${n} joined the Acme Corporation in ${y}.`),
  fc.tuple(int(10, 9_999), fc.constantFrom('kg', 'km', 'hours', 'ml')).map(([n, u]) => `The shipment measured ${n} ${u}.`),
  fc.tuple(int(1, 99), money).map(([p, m]) => `Revenue grew ${p}% to ${m}.`),
  fc.tuple(fc.constantFrom(...MONTHS), int(1, 28), int(1990, 2030)).map(([m, d, y]) => `The review is on ${m} ${d}, ${y}.`),
  fc.tuple(name, fc.lorem({ maxCount: 4 })).map(([n, words]) => `${n} wrote "the quick brown ${words}".`),
  int(1, 999).map((n) => `Details are at https://docs.example.com/reports/${n}.`),
);

describe('properties', () => {
  it('an answer made only of sentences copied from the context is good', () => {
    fc.assert(
      fc.property(fc.array(sentence, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), (sentences, picks) => {
        const answer = picks.map((p) => sentences[p % sentences.length]).join(' ');
        const v = evaluateHallucination(inputOf(answer, sentences.join(' ')));
        expect({ verdict: v.verdict, reason: v.reason }).toMatchObject({ verdict: 'good' });
      }),
      { numRuns: 300 },
    );
  });

  it('inserting a number that is not in the context makes it bad', () => {
    fc.assert(
      fc.property(fc.array(sentence, { minLength: 1, maxLength: 10 }), int(100_000, 9_999_999), fc.constantFrom('kg', 'km', 'people', ''), (sentences, n, unit) => {
        const inserted = `It also involved ${n.toLocaleString('en-US')} ${unit}.`.replace(' .', '.');
        const v = evaluateHallucination(inputOf(`${sentences.join(' ')} ${inserted}`, sentences.join(' ')));
        expect(v.verdict).toBe('bad');
        expect(v.reason).toContain(`"${n.toLocaleString('en-US')}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('evaluateHallucination on long answers', () => {
  it('judges a bounded number of claims, so a long answer costs time linear in its length', () => {
    const answer = Array.from({ length: 500 }, (_, i) => `Item ${i} weighs ${i + 10} kg`).join(', ') + '.';
    const v = evaluateHallucination(inputOf(answer, 'Item weights: 10 kg and 11 kg.'));
    expect(v.verdict).toBe('bad');
    const total = Number(/of (\d+) claims\)$/.exec(v.reason)?.[1]);
    expect(total).toBeGreaterThan(90);
    expect(total).toBeLessThanOrEqual(100 + 100);
  });
});
