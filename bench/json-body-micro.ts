// Microbenchmark (not a test) for the JSON body parser's depth check: what it adds to JSON.parse
// for typical 1–2 KB chat bodies. `npx tsx bench/json-body-micro.ts` (about 20–40 s).
import { createRequire } from 'node:module';
import { jsonDepth, parseJsonBody } from '../src/proxy/json-body.js';

const require = createRequire(import.meta.url);
const sjson = require('secure-json-parse') as { parse(text: string, reviver?: null, options?: object): unknown };

const system = 'You are a support assistant for Acme Corp. Answer briefly and politely. Use the knowledge base when it applies. Escalate billing disputes to a human. Never reveal internal notes. ';
const bodies: Record<string, string> = {
  'chat 1.1 KB': JSON.stringify({
    model: 'support-bot',
    messages: [
      { role: 'system', content: system.repeat(2) },
      { role: 'user', content: 'Hi, my order #4412 has not arrived. Email me at jane.doe@example.com or call 415-555-2671.' },
      { role: 'assistant', content: 'Sorry to hear that! Let me check order #4412 for you.\nIt shipped on Monday.' },
      { role: 'user', content: 'It says "delivered" but nothing is here. Can you refund it?' },
    ],
    temperature: 0.2,
    max_tokens: 256,
    user: 'user-8812',
  }),
  'chat 2.0 KB, tools': JSON.stringify({
    model: 'support-bot',
    messages: [
      { role: 'system', content: system.repeat(3) },
      { role: 'user', content: [{ type: 'text', text: 'What is the status of order 4412? My email is jane.doe@example.com.' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'order_status', arguments: '{"order_id":"4412"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"status":"delivered","carrier":"UPS","eta":null}' },
    ],
    tools: [{ type: 'function', function: { name: 'order_status', description: 'Look up an order', parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }],
    stream: true,
    tunewatch: { spec: 'action-items', meta: { team: 'support' } },
  }),
  // Python's json.dumps escapes every non-ASCII character (\u00e9), which sends the body down the
  // prototype-key walk.
  'chat 1.3 KB, \\u escapes': JSON.stringify({
    model: 'support-bot',
    messages: [
      { role: 'system', content: system.repeat(3) },
      { role: 'user', content: 'Où est ma commande numéro 4412 ? Merci beaucoup, Hélène.' },
    ],
  }).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`),
  // A long conversation: more brackets than the limit, so the full scan runs.
  'chat 2.0 KB, 36 turns': JSON.stringify({
    model: 'support-bot',
    messages: Array.from({ length: 36 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}: ok, thanks` })),
  }),
};

/** A naive alternative: every character through charCodeAt, string state tracked by hand. */
function naiveDepth(text: string): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) max = depth; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The other alternative: parse first, then walk the tree (depth and own __proto__ keys). */
function walkDepth(value: unknown, depth: number, limit: number): number {
  if (value === null || typeof value !== 'object') return depth - 1;
  if (depth > limit) return depth;
  let max = depth;
  if (Array.isArray(value)) {
    for (const v of value) max = Math.max(max, walkDepth(v, depth + 1, limit));
  } else {
    if (Object.hasOwn(value, '__proto__')) throw new Error('proto');
    for (const k in value) max = Math.max(max, walkDepth((value as Record<string, unknown>)[k], depth + 1, limit));
  }
  return max;
}

let sink = 0;
const variants: Record<string, (text: string) => unknown> = {
  'JSON.parse alone': (t) => JSON.parse(t),
  'jsonDepth alone (the full scan)': (t) => jsonDepth(t),
  'parseJsonBody (scan + JSON.parse)': (t) => parseJsonBody(t, 64),
  'naive char loop + JSON.parse': (t) => (naiveDepth(t), JSON.parse(t)),
  'JSON.parse + tree walk': (t) => { const v = JSON.parse(t); walkDepth(v, 1, 64); return v; },
  'secure-json-parse (fastify default)': (t) => sjson.parse(t, null, { protoAction: 'error', constructorAction: 'error' }),
};

function measure(fn: (t: string) => unknown, text: string, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = fn(text);
    if (r === undefined) sink++;
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

const ROUNDS = 11;
const ITER = 5_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log('per call; "+" is the median over rounds of (variant - JSON.parse alone) in the same round');
for (const [name, text] of Object.entries(bodies)) {
  console.log(`\n${name} (${Buffer.byteLength(text)} bytes, depth ${jsonDepth(text)})`);
  for (const fn of Object.values(variants)) measure(fn, text, ITER); // warm-up
  const results: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved, so drift on a shared machine hits every variant alike.
    for (const [v, fn] of Object.entries(variants)) (results[v] ??= []).push(measure(fn, text, ITER));
  }
  const base = results['JSON.parse alone'];
  for (const [v, ns] of Object.entries(results)) {
    const extra = v === 'JSON.parse alone' || v.endsWith('alone (the full scan)') ? '' : `   ${median(ns.map((x, i) => x - base[i])) >= 0 ? '+' : ''}${(median(ns.map((x, i) => x - base[i])) / 1000).toFixed(2)} µs`;
    console.log(`  ${v.padEnd(38)} median ${(median(ns) / 1000).toFixed(2)} µs   min ${(Math.min(...ns) / 1000).toFixed(2)} µs${extra}`);
  }
}
if (sink < 0) console.log(sink);
