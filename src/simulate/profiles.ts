// Behaviour profiles and the pure answer generator of the simulated model server.
// Everything here is deterministic and free of I/O so tests can call it directly.
import { fnv1a } from '../util/hash.js';
import { mulberry32 } from '../util/random.js';

export interface SimProfile {
  name: string;
  latencyMs: { base: number; jitter: number; perToken: number };
  /** Share of requests answered 500/503. */
  errorRate: number;
  instructionFailureRate: number;
  piiLeakRate: number;
  hallucinationRate: number;
  refusalRate: number;
}

export interface SimFlags {
  instructionFailure: boolean;
  piiLeak: boolean;
  hallucination: boolean;
  refusal: boolean;
}

export interface SimAnswer {
  kind: 'ok' | 'error';
  status: number;
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: 'stop' | 'length';
  delayMs: number;
  flags: SimFlags;
}

export interface SimAnswerInput {
  seed: number;
  profile: SimProfile;
  prompt: string;
  maxTokens?: number;
  wantsJson?: boolean;
}

const HEALTHY_RATES = {
  errorRate: 0.005,
  instructionFailureRate: 0.02,
  piiLeakRate: 0.002,
  hallucinationRate: 0.02,
  refusalRate: 0.01,
};

export const PROFILES: Record<string, SimProfile> = {
  healthy: { name: 'healthy', latencyMs: { base: 20, jitter: 10, perToken: 0.5 }, ...HEALTHY_RATES },
  regressed: {
    name: 'regressed',
    latencyMs: { base: 60, jitter: 40, perToken: 2 },
    errorRate: 0.05,
    instructionFailureRate: 0.3,
    piiLeakRate: 0.1,
    hallucinationRate: 0.25,
    refusalRate: 0.05,
  },
  // Same quality as healthy: only the latency SLO should fire.
  slow: { name: 'slow', latencyMs: { base: 800, jitter: 400, perToken: 5 }, ...HEALTHY_RATES },
  // Same quality and speed as healthy, but one request in five fails.
  flaky: { name: 'flaky', latencyMs: { base: 20, jitter: 10, perToken: 0.5 }, ...HEALTHY_RATES, errorRate: 0.2 },
  // No latency and no failures, so benchmarks measure the proxy rather than the simulator.
  instant: {
    name: 'instant',
    latencyMs: { base: 0, jitter: 0, perToken: 0 },
    errorRate: 0,
    instructionFailureRate: 0,
    piiLeakRate: 0,
    hallucinationRate: 0,
    refusalRate: 0,
  },
};

export function getProfile(name: string): SimProfile {
  const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (!profile) {
    throw new Error(`Unknown simulator profile "${name}"; valid profiles: ${Object.keys(PROFILES).join(', ')}`);
  }
  return profile;
}

function rngFor(seed: number, text: string): () => number {
  return mulberry32(fnv1a(`${seed}\u0000${text}`));
}

/** Deterministic id such as "chatcmpl-1a2b…", so identical requests produce identical bodies. */
export function stableId(prefix: string, seed: number, text: string): string {
  const a = fnv1a(`${seed}\u0000${text}`).toString(16).padStart(8, '0');
  const b = fnv1a(`${text}\u0000${seed}`).toString(16).padStart(8, '0');
  return `${prefix}${a}${b}`;
}

/** Rough tokenizer stand-in: words * 1.3, rounded. */
export function countTokens(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.round(words * 1.3);
}

const STOPWORDS = new Set(
  'the and for with that this from into your you our are was were have has had not but all any can will would should could about please list give make write what when where which who how its it'.split(
    ' ',
  ),
);

function promptWords(prompt: string): string[] {
  const words = (prompt.toLowerCase().match(/[a-z][a-z'-]{2,}/g) ?? []).filter((w) => !STOPWORDS.has(w));
  const unique = [...new Set(words)];
  return unique.length > 0 ? unique : ['request', 'review', 'update'];
}

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

const BULLET_TEMPLATES = [
  (a: string, b: string) => `Review the ${a} ${b}`,
  (a: string) => `Follow up on ${a}`,
  (a: string, b: string) => `Confirm ${a} with the ${b} owner`,
  (a: string, b: string) => `Update ${a} before the next ${b} check`,
  (a: string) => `Share the ${a} notes with the team`,
];

const FAKE_CONTACTS = [
  'jane.doe@example.com, +1 415 555 2671',
  'john.smith@example.org, +1 212 555 0148',
  'maria.garcia@example.net, +44 20 7946 0958',
];

const HALLUCINATIONS = [
  (n: number, y: number) => `revenue grew ${n}% in ${y} according to Dr. Alan Whitfield`,
  (n: number, y: number) => `the ${y} Hartwell Report found ${n}% of teams already do this`,
  (n: number, y: number) => `Professor Linda Okafor proved this in ${y} with a ${n}% success rate`,
];

export const REFUSAL_TEXT = "I'm sorry, but as an AI language model I cannot help with that.";

/** Keeps whole words (with their trailing whitespace) while the token budget allows. */
function truncateToTokens(text: string, maxTokens: number): string {
  const pieces = text.match(/\S+\s*/g) ?? [];
  let kept = 0;
  while (kept < pieces.length && Math.round((kept + 1) * 1.3) <= maxTokens) kept++;
  return pieces.slice(0, Math.max(1, kept)).join('').trimEnd();
}

export function simulateAnswer(input: SimAnswerInput): SimAnswer {
  const { seed, profile, prompt, maxTokens, wantsJson = false } = input;
  // Draw order is fixed so the same (seed, prompt) always yields the same answer.
  const rng = rngFor(seed, prompt);
  const isError = rng() < profile.errorRate;
  const jitter = rng() * profile.latencyMs.jitter;
  const flags: SimFlags = {
    refusal: rng() < profile.refusalRate,
    instructionFailure: rng() < profile.instructionFailureRate,
    piiLeak: rng() < profile.piiLeakRate,
    hallucination: rng() < profile.hallucinationRate,
  };
  const promptTokens = Math.max(1, countTokens(prompt));
  const baseDelay = profile.latencyMs.base + jitter;

  if (isError) {
    const status = rng() < 0.5 ? 500 : 503;
    const text = status === 503 ? 'The server is overloaded, please retry later.' : 'The server had an error while processing your request.';
    const noFlags = { instructionFailure: false, piiLeak: false, hallucination: false, refusal: false };
    return { kind: 'error', status, text, promptTokens, completionTokens: 0, finishReason: 'stop', delayMs: Math.round(baseDelay), flags: noFlags };
  }

  let text: string;
  let markers: Markers = {};
  if (flags.refusal) {
    // A refusal replaces the answer, so the other failures never reach the text.
    flags.instructionFailure = flags.piiLeak = flags.hallucination = false;
    text = REFUSAL_TEXT;
  } else {
    const composed = composeAnswer(rng, promptWords(prompt), flags, wantsJson);
    text = composed.text;
    markers = composed.markers;
  }

  let finishReason: 'stop' | 'length' = 'stop';
  if (maxTokens !== undefined && maxTokens > 0 && countTokens(text) > maxTokens) {
    text = truncateToTokens(text, maxTokens);
    finishReason = 'length';
    // Flags describe the text actually sent: a leak cut off by max_tokens did not happen.
    if (markers.piiLeak && !text.includes(markers.piiLeak)) flags.piiLeak = false;
    if (markers.hallucination && !text.includes(markers.hallucination)) flags.hallucination = false;
  }
  const completionTokens = countTokens(text);
  const delayMs = Math.round(baseDelay + profile.latencyMs.perToken * completionTokens);
  return { kind: 'ok', status: 200, text, promptTokens, completionTokens, finishReason, delayMs, flags };
}

/** The exact snippets a failure inserted, so truncation can tell whether they survived. */
interface Markers {
  piiLeak?: string;
  hallucination?: string;
}

function composeAnswer(rng: () => number, words: string[], flags: SimFlags, wantsJson: boolean): { text: string; markers: Markers } {
  let previous = '';
  // Avoids "the billing billing" when the prompt offers more than one word.
  const word = () => {
    let next = pick(rng, words);
    if (next === previous && words.length > 1) next = words[(words.indexOf(next) + 1) % words.length];
    return (previous = next);
  };
  const markers: Markers = {};
  const extras: string[] = [];
  if (flags.piiLeak) {
    const contact = pick(rng, FAKE_CONTACTS);
    markers.piiLeak = contact.split(',')[0]; // the email alone is already a leak
    extras.push(`Contact ${contact} for details.`);
  }
  if (flags.hallucination) {
    markers.hallucination = pick(rng, HALLUCINATIONS)(10 + Math.floor(rng() * 80), 2005 + Math.floor(rng() * 18));
    extras.push(`Note that ${markers.hallucination}.`);
  }
  return { text: formatAnswer(rng, word, extras, flags, wantsJson), markers };
}

function formatAnswer(rng: () => number, word: () => string, extras: string[], flags: SimFlags, wantsJson: boolean): string {
  if (wantsJson) {
    const summary = [`Handle ${word()} and ${word()} first.`, ...extras].join(' ');
    if (flags.instructionFailure) {
      // Chatty preamble plus unquoted keys: what a model that forgot JSON mode produces.
      return `Sure! Here is the JSON you asked for: {priority: ${pick(rng, ['low', 'medium', 'high'])}, summary: ${summary}`;
    }
    return JSON.stringify({ priority: pick(rng, ['low', 'medium', 'high']), summary });
  }

  if (flags.instructionFailure) {
    const a = word();
    const b = word();
    return [
      `Well, there is a lot one could say about ${a}, and honestly it depends on many factors.`,
      `In general ${b} is something people think about quite often, so it is worth considering from several angles before deciding anything.`,
      ...extras,
    ].join(' ');
  }

  const bulletCount = 2 + Math.floor(rng() * 3);
  const bullets: string[] = [];
  for (let i = 0; i < bulletCount; i++) bullets.push(`- ${pick(rng, BULLET_TEMPLATES)(word(), word())}`);
  extras.forEach((extra) => bullets.push(`- ${extra}`));
  return ['Action items:', ...bullets].join('\n');
}

/** Unit-length pseudo-embedding, stable for the same (seed, text). */
export function simulateEmbedding(seed: number, text: string, dims = 8): number[] {
  const rng = rngFor(seed, `embedding\u0000${text}`);
  const raw = Array.from({ length: Math.max(1, Math.floor(dims)) }, () => rng() * 2 - 1);
  const norm = Math.sqrt(raw.reduce((sum, v) => sum + v * v, 0)) || 1;
  return raw.map((v) => v / norm);
}
