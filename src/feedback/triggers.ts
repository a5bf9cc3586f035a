// When a model's queue becomes a job by itself: pure, from what the service sees at a round.
import type { CanaryView } from '../canary/controller.js';
import { parseDuration } from '../config/duration.js';
import type { RetrainTriggerConfig } from '../config/schema.js';
import type { PostableAlert } from '../slo/alertmanager.js';
import type { Trigger } from './states.js';

/** What a model's loop remembers between rounds, so each alert and rollback fires once. */
export interface TriggerMemory {
  /** The page alerts firing at the last round. */
  firedAlerts: Set<string>;
  /** Canary versions whose rollback was seen. */
  rolledBack: Set<string>;
  /** When the loop started: the schedule counts from here until the first job. */
  startedAt: number;
  /** A page or rollback seen while nothing could be launched (no new ready item, a job running): fires once something can. */
  pending?: Trigger;
}

export interface TriggerInput {
  trigger: RetrainTriggerConfig;
  model: string;
  now: number;
  /** Ready items not in the latest job's snapshot. */
  newReady: number;
  /** A job of the model is queued, submitted or running: automatic triggers wait for it. */
  activeJob: boolean;
  lastJobAt: number | null;
  firing: PostableAlert[];
  canary?: CanaryView;
  memory: TriggerMemory;
}

/** The trigger due now, if any (the first that applies); remembers the alerts and rollbacks it used. */
export function dueTriggers(input: TriggerInput): Trigger | null {
  const { trigger, model, memory } = input;
  // Alerts and rollbacks are remembered even while a job runs, so they do not fire later for old news.
  const pages = input.firing.filter((a) => a.labels.severity === 'page' && a.labels.model === model);
  const newPage = pages.find((a) => !memory.firedAlerts.has(alertKey(a)));
  // An alert that resolved and fires again is a new page.
  memory.firedAlerts = new Set(pages.map(alertKey));
  const rolledBack = input.canary?.state === 'rolled_back' && input.canary.canary !== '' && !memory.rolledBack.has(input.canary.canary);
  if (rolledBack) memory.rolledBack.add(input.canary!.canary);

  if (trigger.canaryRollback && rolledBack) memory.pending = 'canary_rollback';
  else if (trigger.sloPage && newPage && memory.pending === undefined) memory.pending = 'slo_page';

  if (input.activeJob || input.newReady === 0) return null;
  if (memory.pending) {
    const fired = memory.pending;
    memory.pending = undefined;
    return fired;
  }
  if (trigger.readyItems !== undefined && input.newReady >= trigger.readyItems) return 'ready_items';
  if (trigger.schedule && input.now - (input.lastJobAt ?? memory.startedAt) >= parseDuration(trigger.schedule)) return 'schedule';
  return null;
}

const alertKey = (a: PostableAlert) => `${a.labels.alertname}|${a.labels.slo ?? ''}|${a.labels.version ?? ''}|${a.labels.window ?? ''}`;
