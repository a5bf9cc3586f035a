import { Pool } from 'undici';
import type { EvaluationConfig } from '../config/schema.js';
import type { Verdict } from './types.js';

export const MODERATION_EVALUATOR = { name: 'moderation-api', version: '1' };

export interface ModerationClient {
  check(text: string): Promise<Verdict>;
  close(): Promise<void>;
}

const verdict = (v: Verdict['verdict'], reason: string, score: number | null = null): Verdict => ({
  sli: 'safe_response',
  evaluator: MODERATION_EVALUATOR.name,
  evaluatorVersion: MODERATION_EVALUATOR.version,
  verdict: v,
  score,
  reason,
});

/**
 * A client for an endpoint speaking the OpenAI moderations API (POST /v1/moderations). At most
 * `concurrency` calls at once; a timeout or an error is `unknown`, never `good`.
 */
export function createModerationClient(cfg: NonNullable<EvaluationConfig['moderation']>, env: NodeJS.ProcessEnv = process.env): ModerationClient {
  const url = new URL(cfg.url.replace(/\/+$/, ''));
  const pool = new Pool(url.origin, { connections: cfg.concurrency });
  const apiKey = cfg.apiKeyEnv ? env[cfg.apiKeyEnv] : undefined;
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = async () => {
    if (active >= cfg.concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
  };
  const release = () => {
    active--;
    waiting.shift()?.();
  };

  return {
    async check(text) {
      await acquire();
      try {
        const res = await pool.request({
          path: `${url.pathname.replace(/\/$/, '')}/moderations`,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          body: JSON.stringify({ input: text, ...(cfg.model ? { model: cfg.model } : {}) }),
          signal: AbortSignal.timeout(cfg.timeoutMs),
        });
        const raw = await res.body.text();
        if (res.statusCode !== 200) return verdict('unknown', `moderation: endpoint answered ${res.statusCode}`);
        const body = JSON.parse(raw) as { results?: { flagged?: boolean; categories?: Record<string, boolean>; category_scores?: Record<string, number> }[] };
        if (!body.results?.[0]) return verdict('unknown', 'moderation: answer has no results');
        const result = body.results[0];
        const flagged = Object.entries(result.categories ?? {}).filter(([, on]) => on).map(([name]) => name);
        const top = Math.max(0, ...Object.values(result.category_scores ?? {}));
        return result.flagged
          ? verdict('bad', `moderation: flagged ${flagged.join(', ') || '(no category)'}`, 1 - top)
          : verdict('good', 'moderation: not flagged', 1 - top);
      } catch (err) {
        const name = (err as Error).name;
        return verdict('unknown', name === 'TimeoutError' ? `moderation: no answer within ${cfg.timeoutMs} ms` : `moderation: ${(err as Error).message}`);
      } finally {
        release();
      }
    },
    close: () => pool.close(),
  };
}
