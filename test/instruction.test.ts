import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstructionSpec } from '../src/config/schema.js';
import {
  compilePattern,
  compileSpec,
  countBullets,
  countWords,
  detectLanguage,
  evaluateInstruction,
  extractJson,
  INSTRUCTION_EVALUATOR,
  SpecError,
} from '../src/evaluate/instruction.js';
import { DEFAULT_REFUSAL_PHRASES, findRefusal } from '../src/evaluate/refusal.js';
import type { EvalInput } from '../src/evaluate/types.js';

const input = (response: string, extra: Partial<EvalInput> = {}): EvalInput => ({
  messages: [{ role: 'user', content: 'Summarise the meeting.' }],
  response,
  responseFormat: 'text',
  context: '',
  ...extra,
});

/** Evaluates one answer against a spec (refusal check off unless the case is about it). */
const judge = (spec: InstructionSpec, response: string, extra: Partial<EvalInput> = {}) =>
  evaluateInstruction(input(response, extra), compileSpec('t', { noRefusal: false, ...spec }));

const ticketSchema = {
  type: 'object',
  required: ['priority', 'summary'],
  properties: { priority: { enum: ['low', 'medium', 'high'] }, summary: { type: 'string' } },
};

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
const ENGLISH = 'The deployment failed because the database was not reachable, and we will retry it after the maintenance window.';
const SPANISH = 'El despliegue falló porque la base de datos no estaba disponible y lo vamos a intentar de nuevo por la tarde.';
const FRENCH = "Le déploiement a échoué parce que la base de données n'était pas disponible et nous allons réessayer dans la soirée.";
const GERMAN = 'Die Bereitstellung ist fehlgeschlagen, weil die Datenbank nicht erreichbar war, und wir werden es nach der Wartung noch einmal versuchen.';
const ITALIAN = 'Il rilascio non è riuscito perché il database non era raggiungibile e lo riproveremo dopo la manutenzione della sera.';
const PORTUGUESE = 'A implantação falhou porque o banco de dados não estava disponível e vamos tentar de novo depois da manutenção com a equipe.';
const DUTCH = 'De uitrol is mislukt omdat de database niet bereikbaar was en we zullen het na het onderhoud van vanavond opnieuw proberen.';

describe('instruction spec checks', () => {
  const cases: { name: string; spec: InstructionSpec; response: string; verdict: 'good' | 'bad'; reason?: string | RegExp }[] = [
    { name: 'json: raw object', spec: { json: true }, response: '{"a": 1}', verdict: 'good' },
    { name: 'json: ```json fence with lead-in', spec: { json: true }, response: 'Here it is:\n```json\n{"a": [1, 2]}\n```', verdict: 'good' },
    { name: 'json: bare ``` fence', spec: { json: true }, response: '```\n[1, 2, 3]\n```', verdict: 'good' },
    { name: 'json: trailing comma', spec: { json: true }, response: '{"a": 1,}', verdict: 'bad', reason: /^json: invalid JSON/ },
    { name: 'json: single quotes', spec: { json: true }, response: "{'a': 1}", verdict: 'bad', reason: /invalid JSON/ },
    { name: 'json: unquoted keys after chatty lead-in', spec: { json: true }, response: 'Sure! Here is the JSON you asked for: {priority: low, summary: x}', verdict: 'bad', reason: /invalid JSON/ },
    { name: 'json: prose only', spec: { json: true }, response: 'The priority is high.', verdict: 'bad', reason: 'json: no JSON found' },
    { name: 'json: a JSON block lost in prose', spec: { json: true }, response: `${words(60)}\n\`\`\`json\n{"a":1}\n\`\`\`\n${words(20)}`, verdict: 'bad', reason: /not the main content/ },
    { name: 'json: a python block', spec: { json: true }, response: '```python\n{"a": 1}\n```', verdict: 'bad', reason: /code block is python/ },
    { name: 'json: a bare number', spec: { json: true }, response: '42', verdict: 'bad' },
    { name: 'jsonSchema: valid', spec: { jsonSchema: ticketSchema }, response: '{"priority":"high","summary":"db down"}', verdict: 'good' },
    { name: 'jsonSchema: valid in a fence', spec: { jsonSchema: ticketSchema }, response: '```json\n{"priority":"low","summary":"ok"}\n```', verdict: 'good' },
    { name: 'jsonSchema: wrong type', spec: { jsonSchema: ticketSchema }, response: '{"priority":3,"summary":"db down"}', verdict: 'bad', reason: /\/priority must be equal to one of the allowed values: "low", "medium", "high"/ },
    { name: 'jsonSchema: missing property', spec: { jsonSchema: ticketSchema }, response: '{"priority":"low"}', verdict: 'bad', reason: /\(root\) must have required property 'summary'/ },
    { name: 'jsonSchema: not JSON', spec: { jsonSchema: ticketSchema }, response: 'priority: high', verdict: 'bad', reason: /jsonSchema: no JSON found/ },
    { name: 'mustMatch: found', spec: { mustMatch: ['action items'] }, response: 'Action items and action items', verdict: 'good' },
    { name: 'mustMatch: (?i) makes it case-insensitive', spec: { mustMatch: ['(?i)action items'] }, response: 'ACTION ITEMS:\n- x', verdict: 'good' },
    { name: 'mustMatch: case-sensitive without (?i)', spec: { mustMatch: ['action items'] }, response: 'ACTION ITEMS', verdict: 'bad', reason: 'mustMatch: /action items/ not found' },
    { name: 'mustMatch: (?im) combines flags', spec: { mustMatch: ['(?im)^done$'] }, response: 'step one\nDONE\nbye', verdict: 'good' },
    { name: 'mustMatch: (?s) lets . span lines', spec: { mustMatch: ['(?s)start.*end'] }, response: 'start\nmiddle\nend', verdict: 'good' },
    { name: 'mustNotMatch: absent', spec: { mustNotMatch: ['(?i)lorem ipsum'] }, response: 'Real content.', verdict: 'good' },
    { name: 'mustNotMatch: present', spec: { mustNotMatch: ['(?i)lorem ipsum'] }, response: 'Lorem Ipsum dolor', verdict: 'bad', reason: 'mustNotMatch: /lorem ipsum/i matched "Lorem Ipsum"' },
    { name: 'minWords: enough', spec: { minWords: 3 }, response: 'one two three', verdict: 'good' },
    { name: 'minWords: too few (a lone dash is no word)', spec: { minWords: 3 }, response: 'one - two', verdict: 'bad', reason: 'minWords: 2 words < 3' },
    { name: 'maxWords: too many', spec: { maxWords: 150 }, response: words(212), verdict: 'bad', reason: 'maxWords: 212 words > 150' },
    { name: 'minChars: too short', spec: { minChars: 10 }, response: '  short  ', verdict: 'bad', reason: 'minChars: 5 chars < 10' },
    { name: 'maxChars: counts code points', spec: { maxChars: 3 }, response: '😀😀😀', verdict: 'good' },
    { name: 'requiredSections: headings, bold and Title: lines', spec: { requiredSections: ['Summary', 'Action items', 'Risks', 'Owner'] }, response: '## 1. Summary\ntext\n**Action Items:**\n- a\nRISKS: none\n**Owner**: Ana', verdict: 'good' },
    { name: 'requiredSections: missing', spec: { requiredSections: ['Summary', 'Next steps'] }, response: '# Summary\nAll fine. We talked about next steps.', verdict: 'bad', reason: 'requiredSections: missing "Next steps"' },
    { name: 'requiredSections: a comment in code is no heading', spec: { requiredSections: ['Setup'] }, response: '```bash\n# setup\nnpm i\n```', verdict: 'bad' },
    { name: 'minBullets: -, *, •, 1. and 1)', spec: { minBullets: 5 }, response: '- a\n* b\n• c\n1. d\n2) e', verdict: 'good' },
    { name: 'minBullets: bold and rules are no bullets', spec: { minBullets: 1 }, response: '**Bold**\n* * *\n---\n-5 degrees', verdict: 'bad', reason: 'minBullets: 0 bullets < 1' },
    { name: 'maxBullets: too many', spec: { maxBullets: 2 }, response: '- a\n- b\n- c', verdict: 'bad', reason: 'maxBullets: 3 bullets > 2' },
    { name: 'language: matches', spec: { language: 'es' }, response: SPANISH, verdict: 'good' },
    { name: 'language: another language', spec: { language: 'en' }, response: FRENCH, verdict: 'bad', reason: 'language: answer looks fr, not en' },
    { name: 'language: too short to tell', spec: { language: 'en' }, response: 'Hola, ¿qué tal?', verdict: 'good' },
    { name: 'language: another script', spec: { language: 'en' }, response: 'Развертывание не удалось, потому что база данных была недоступна.', verdict: 'bad', reason: /looks ru/ },
    { name: 'noRefusal: a refusal', spec: { noRefusal: true }, response: "I’m sorry, but I can’t share that.", verdict: 'bad', reason: `noRefusal: refusal "i'm sorry, but i can't"` },
    { name: 'noRefusal: a refusal by structure', spec: { noRefusal: true }, response: "I'm not comfortable writing that summary.", verdict: 'bad', reason: `noRefusal: refusal "i'm not comfortable"` },
    { name: 'noRefusal: a caveat then the answer', spec: { noRefusal: true }, response: "I can't promise it is complete, but here are the three main risks: cost, schedule and staffing, each covered below in detail with owners and dates for the next review.", verdict: 'good' },
    { name: 'noRefusal: a real answer', spec: { noRefusal: true }, response: 'The root cause was an expired certificate.', verdict: 'good' },
  ];

  it.each(cases)('$name → $verdict', ({ spec, response, verdict, reason }) => {
    const v = judge(spec, response);
    expect(v.verdict, v.reason).toBe(verdict);
    if (typeof reason === 'string') expect(v.reason).toBe(reason);
    else if (reason) expect(v.reason).toMatch(reason);
  });

  it('fills the verdict fields, scores the share of checks passed and names every failure', () => {
    const good = judge({ mustMatch: ['(?i)action items'], minBullets: 2, maxWords: 50 }, 'Action items:\n- a\n- b');
    expect(good).toEqual({
      sli: 'instruction_success', evaluator: INSTRUCTION_EVALUATOR.name, evaluatorVersion: INSTRUCTION_EVALUATOR.version,
      verdict: 'good', score: 1, reason: 'all 3 checks passed (spec t)',
    });
    const bad = judge({ mustMatch: ['(?i)action items'], minBullets: 2, maxWords: 5, minWords: 1 }, words(8));
    expect(bad.verdict).toBe('bad');
    expect(bad.score).toBe(0.25);
    expect(bad.reason).toBe('mustMatch: /action items/i not found; maxWords: 8 words > 5; minBullets: 0 bullets < 2');
  });

  it('keeps the reason short', () => {
    const spec = { mustMatch: Array.from({ length: 30 }, (_, i) => `needle number ${i} that is missing`) };
    expect(judge(spec, 'nothing').reason.length).toBeLessThanOrEqual(300);
  });

  it('checks for refusals by default, with the configured phrases', () => {
    const refusal = "I'm sorry, but as an AI language model I cannot help with that.";
    expect(evaluateInstruction(input(refusal), compileSpec('s', {})).verdict).toBe('bad');
    expect(evaluateInstruction(input(refusal), compileSpec('s', {}, { refusalPhrases: ['no can do'] })).verdict).toBe('good');
    expect(evaluateInstruction(input('No can do, pal.'), compileSpec('s', {}, { refusalPhrases: ['no can do'] })).reason).toBe('noRefusal: refusal "no can do"');
  });
});

describe('response_format checks', () => {
  const jsonObject = { responseFormat: 'json_object' } as const;
  const withSchema = { responseFormat: 'json_schema', responseSchema: ticketSchema } as const;
  const cases: { name: string; response: string; extra: Partial<EvalInput>; verdict: 'good' | 'bad'; reason?: RegExp }[] = [
    { name: 'json_object: an object', response: ' {"priority": "high"} ', extra: jsonObject, verdict: 'good' },
    { name: 'json_object: an array', response: '[1]', extra: jsonObject, verdict: 'bad', reason: /not a JSON object/ },
    { name: 'json_object: unquoted keys', response: '{priority: high}', extra: jsonObject, verdict: 'bad', reason: /invalid JSON/ },
    { name: 'json_object: fenced JSON breaks JSON-mode clients', response: '```json\n{"a":1}\n```', extra: jsonObject, verdict: 'bad', reason: /wrapped in prose or a code fence/ },
    { name: 'json_schema: valid', response: '{"priority":"medium","summary":"s"}', extra: withSchema, verdict: 'good' },
    { name: 'json_schema: wrong type', response: '{"priority":3,"summary":"s"}', extra: withSchema, verdict: 'bad', reason: /\/priority must be equal/ },
    { name: 'json_schema without a schema: any object', response: '{"x":1}', extra: { responseFormat: 'json_schema' }, verdict: 'good' },
  ];

  it.each(cases)('$name → $verdict (no spec)', ({ response, extra, verdict, reason }) => {
    const v = evaluateInstruction(input(response, extra), null);
    expect(v.verdict, v.reason).toBe(verdict);
    if (reason) expect(v.reason).toMatch(reason);
  });

  it('is unknown, not good, when no spec applies to a text answer', () => {
    expect(evaluateInstruction(input('anything'), null)).toMatchObject({ verdict: 'unknown', score: null, reason: 'no instruction spec applies' });
  });

  it('adds to the spec checks', () => {
    const v = judge({ minWords: 1 }, '{"priority":3}', withSchema);
    expect(v).toMatchObject({ verdict: 'bad', score: 0.5 });
    expect(v.reason).toMatch(/^response_format json_schema: /);
    expect(evaluateInstruction(input('{"a":1}', jsonObject), null).reason).toBe('all 1 check passed (response_format json_object)');
  });

  it('skips an invalid request schema with a note, and caches schemas across many requests', () => {
    const v = evaluateInstruction(input('{"a":1}', { responseFormat: 'json_schema', responseSchema: { type: 'nope' } }), null);
    expect(v.verdict).toBe('good');
    expect(v.reason).toMatch(/request schema not checked/);
    for (let i = 0; i < 250; i++) {
      const schema = { $id: 'https://example.com/same-id', type: 'object', required: [`k${i}`] };
      const ok = evaluateInstruction(input(`{"k${i}":1}`, { responseFormat: 'json_schema', responseSchema: schema }), null);
      expect(ok.verdict).toBe('good');
    }
  });

  it('accepts a 2020-12 $schema', () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...ticketSchema };
    expect(judge({ jsonSchema: schema }, '{"priority":"x","summary":"s"}').verdict).toBe('bad');
  });
});

describe('compileSpec errors', () => {
  const cases: { spec: InstructionSpec; message: string | RegExp }[] = [
    { spec: { mustMatch: ['ok', '(unclosed'] }, message: /^spec "ticket-json": mustMatch\[1\] is not a valid regular expression: / },
    { spec: { mustNotMatch: ['(?x)a'] }, message: /^spec "ticket-json": mustNotMatch\[0\] is not a valid regular expression/ },
    { spec: { jsonSchema: { type: 'strin' } }, message: /^spec "ticket-json": jsonSchema is not a valid JSON Schema: / },
    { spec: { jsonSchema: { $ref: '#/nowhere' } }, message: /jsonSchema is not a valid JSON Schema/ },
    { spec: { minWords: 50, maxWords: 10 }, message: 'spec "ticket-json": minWords (50) is greater than maxWords (10)' },
    { spec: { minChars: 5, maxChars: 4 }, message: 'spec "ticket-json": minChars (5) is greater than maxChars (4)' },
    { spec: { minBullets: 3, maxBullets: 1 }, message: 'spec "ticket-json": minBullets (3) is greater than maxBullets (1)' },
    { spec: { language: 'sv' }, message: /language "sv" is not supported/ },
  ];
  it.each(cases)('$message', ({ spec, message }) => {
    expect(() => compileSpec('ticket-json', spec)).toThrow(SpecError);
    expect(() => compileSpec('ticket-json', spec)).toThrow(message);
  });

  it('compiles a spec with an $id twice (a config reload)', () => {
    const spec = { jsonSchema: { $id: 'https://example.com/ticket', ...ticketSchema } };
    expect(() => [compileSpec('a', spec), compileSpec('a', spec)]).not.toThrow();
  });

  it('reads inline flags only at the start', () => {
    expect(compilePattern('(?i)abc').flags).toBe('i');
    expect(compilePattern('(?ims)abc').flags).toBe('ims');
    expect(compilePattern('(?ii)abc').flags).toBe('i');
    expect(compilePattern('abc').flags).toBe('');
    expect(() => compilePattern('a(?i)bc')).toThrow();
  });
});

describe('extractJson', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['Sure, here you go:\n\n```json\n{"a":1}\n```\nAnything else?', { a: 1 }],
    ['Here is the JSON:\n[{"a":1}]', [{ a: 1 }]],
  ])('%j', (text, value) => expect(extractJson(text)).toEqual({ ok: true, value }));

  it('rejects two code blocks', () => {
    expect(extractJson('```json\n{}\n```\n```json\n{}\n```')).toEqual({ ok: false, error: '2 code blocks, expected one JSON block' });
  });
});

describe('detectLanguage', () => {
  it.each([
    ['en', ENGLISH], ['es', SPANISH], ['fr', FRENCH], ['de', GERMAN], ['it', ITALIAN], ['pt', PORTUGUESE], ['nl', DUTCH],
    ['ja', 'デプロイに失敗しました。データベースに接続できませんでした。'],
    ['zh', '部署失败了，因为数据库无法访问，我们将在维护后重试。'],
  ])('%s', (code, text) => expect(detectLanguage(text)).toBe(code));

  it.each([
    ['pt', 'Não, a encomenda só chega na próxima terça-feira à tarde.'],
    ['es', 'Sí, mañana te enviamos el código de acceso por correo.'],
    ['de', 'Die Rechnung schicken wir dir morgen früh per Post zu.'],
    ['en', 'The café near the station serves a naïve but lovely brunch on weekends for all of you.'],
  ])('short %s answers, by letters only some languages write', (code, text) => expect(detectLanguage(text)).toBe(code));

  it.each([['too short', 'The cat sat.'], ['no stopwords', 'Kubernetes Postgres Redis Kafka Grafana Prometheus Loki Tempo Mimir']])(
    'is unsure when %s',
    (_, text) => expect(detectLanguage(text)).toBeNull(),
  );
});

describe('findRefusal', () => {
  it.each([
    ["I'm sorry, but I can't help with that.", "i'm sorry, but i can't"],
    ['I’m  sorry but I CAN’T do this', "i'm sorry, but i can't"],
    ['As an AI language model, I have no opinions.', 'as an ai language model'],
    ['Unfortunately I am unable to\nshare it.', 'i am unable to'],
  ])('%j → %j', (text, phrase) => expect(findRefusal(text)).toBe(phrase));

  it.each(['Here is the plan.', 'I am unable tomorrow, but Tuesday works.', 'I cannot helpfully summarise a blank page — please paste it.'])(
    'no refusal in %j',
    (text) => expect(findRefusal(text)).toBeNull(),
  );

  it('ships lowercase phrases with straight apostrophes', () => {
    for (const phrase of DEFAULT_REFUSAL_PHRASES) expect(phrase).toBe(phrase.toLowerCase().replace(/’/g, "'"));
    expect(DEFAULT_REFUSAL_PHRASES.length).toBeGreaterThanOrEqual(15);
  });
});

describe('properties', () => {
  const item = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.]{0,30}$/);
  const marker = fc.constantFrom('- ', '* ', '• ', '1. ', '2) ', '  - ');

  it('an answer with exactly N bullets satisfies minBullets = maxBullets = N, and not N + 1', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(marker, item), { maxLength: 12 }), fc.array(item, { maxLength: 3 }), (bullets, prose) => {
        const text = [...prose.map((p) => `Note ${p}`), ...bullets.map(([m, t]) => m + t)].join('\n');
        const n = bullets.length;
        expect(countBullets(text)).toBe(n);
        expect(judge({ minBullets: n, maxBullets: n }, text).verdict).toBe('good');
        expect(judge({ minBullets: n + 1 }, text).verdict).toBe('bad');
      }),
    );
  });

  it('word counts add up over concatenation and ignore whitespace and punctuation-only tokens', () => {
    const token = fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.constantFrom('-', '—', '...', '*'));
    const gap = fc.stringMatching(/^[ \t\n]{1,3}$/);
    fc.assert(
      fc.property(fc.array(token), fc.array(token), gap, (a, b, sep) => {
        const join = (tokens: string[]) => tokens.join(sep);
        expect(countWords(`${join(a)}${sep}${join(b)}`)).toBe(countWords(join(a)) + countWords(join(b)));
        expect(countWords(join(a))).toBe(a.filter((t) => /[a-z0-9]/.test(t)).length);
      }),
    );
  });
});
