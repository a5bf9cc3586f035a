import { request } from 'undici';

/** An alert in Alertmanager's API v2 shape (POST /api/v2/alerts). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export interface NotifyResult {
  url: string;
  ok: boolean;
  error?: string;
}

/**
 * Posts alerts to every configured Alertmanager (HA pairs deduplicate on their side). An unreachable
 * Alertmanager is retried once here and again at the next evaluation; it never throws.
 */
export class AlertmanagerClient {
  constructor(
    readonly urls: string[],
    private readonly onResult: (result: NotifyResult) => void = () => {},
    private readonly timeoutMs = 5_000,
  ) {}

  async post(alerts: PostableAlert[]): Promise<NotifyResult[]> {
    if (alerts.length === 0 || this.urls.length === 0) return [];
    return Promise.all(this.urls.map((url) => this.postOne(url, alerts)));
  }

  private async postOne(url: string, alerts: PostableAlert[]): Promise<NotifyResult> {
    let error = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await request(`${url.replace(/\/+$/, '')}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(alerts),
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          const result = { url, ok: true };
          this.onResult(result);
          return result;
        }
        error = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
        if (res.statusCode < 500) break; // a 4xx will not get better by retrying
      } catch (err) {
        error = (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const result = { url, ok: false, error };
    this.onResult(result);
    return result;
  }
}
