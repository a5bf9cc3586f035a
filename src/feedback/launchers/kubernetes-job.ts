// The Kubernetes Job a launch becomes, and what a Job's status means: pure, no API calls. The Job is
// validated against the official batch/v1 schema (kubernetes-models) before anything is sent.
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { relative, sep } from 'node:path';
import type { KubernetesLauncherConfig } from '../../config/schema.js';
import { LauncherError, trainerEnv, type LaunchSpec, type Observed } from './launcher.js';

export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
export const GPU_RESOURCE = 'nvidia.com/gpu';
const DATA_VOLUME = 'tunewatch-data';

/** A path of this machine as the pod sees it: under the mounted volume, or under the object-store URL. */
export function podPath(config: Pick<KubernetesLauncherConfig, 'dataset'>, dataRoot: string, path: string): string {
  if (!path) return path;
  const rel = relative(dataRoot, path);
  if (rel.startsWith('..') || rel === '') throw new LauncherError('kubernetes', `${path} is not inside tunewatch's data folder ${dataRoot}, which the pod is given`);
  const posix = rel.split(sep).join('/');
  return 'volume' in config.dataset ? `${config.dataset.volume.mountPath.replace(/\/+$/, '')}/${posix}` : `${config.dataset.url.replace(/\/+$/, '')}/${posix}`;
}

/** The batch/v1 Job for a launch, checked against the official schema. */
export function buildJob(config: KubernetesLauncherConfig, spec: LaunchSpec, dataRoot: string): IJob {
  // The schema leaves names to the API server, which wants a DNS-1123 label for a Job (its pods' names and labels derive from it).
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(spec.jobId) || spec.jobId.length > 63) {
    throw new LauncherError('kubernetes', `job id ${JSON.stringify(spec.jobId)} is not a DNS-1123 label (lowercase letters, digits and -, at most 63)`);
  }
  const env = Object.entries(trainerEnv(spec)).map(([name, value]) => ({
    name,
    // Paths become the pod's paths; the job id, model and base model pass unchanged.
    value: /^TUNEWATCH_(DATASET|VALIDATION|PREFERENCES|PREFERENCES_VALIDATION|MANIFEST|OUTPUT_DIR)$/.test(name) ? podPath(config, dataRoot, value) : value,
  }));
  const labels: Record<string, string> = {
    'app.kubernetes.io/managed-by': 'tunewatch',
    'app.kubernetes.io/name': 'tunewatch-fine-tune',
    'tunewatch.dev/job-id': spec.jobId,
    'tunewatch.dev/model': spec.model.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, 63) || 'model',
  };
  if (config.queueName) labels[KUEUE_QUEUE_LABEL] = config.queueName;
  const volume = 'volume' in config.dataset ? config.dataset.volume : null;
  const job = new Job({
    metadata: { name: spec.jobId, namespace: config.namespace, labels },
    spec: {
      backoffLimit: config.backoffLimit,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      ...(config.activeDeadlineSeconds ? { activeDeadlineSeconds: config.activeDeadlineSeconds } : {}),
      // Kueue admits a queued Job by unsuspending it.
      ...(config.queueName ? { suspend: true } : {}),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
          ...(Object.keys(config.nodeSelector).length ? { nodeSelector: config.nodeSelector } : {}),
          ...(config.tolerations.length ? { tolerations: config.tolerations as never } : {}),
          containers: [
            {
              name: 'trainer',
              image: config.image,
              command: config.command,
              env,
              ...(config.gpus > 0 ? { resources: { limits: { [GPU_RESOURCE]: String(config.gpus) } } } : {}),
              ...(volume ? { volumeMounts: [{ name: DATA_VOLUME, mountPath: volume.mountPath }] } : {}),
            },
          ],
          ...(volume ? { volumes: [{ name: DATA_VOLUME, persistentVolumeClaim: { claimName: volume.claimName } }] } : {}),
        },
      },
    },
  });
  try {
    job.validate();
  } catch (err) {
    throw new LauncherError('kubernetes', `the Job for ${spec.jobId} is not a valid batch/v1 Job: ${(err as Error).message}`);
  }
  return job.toJSON() as IJob;
}

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/**
 * A Job is finished only when its Complete or Failed condition is "True"; interim conditions
 * (FailureTarget, SuccessCriteriaMet, Suspended) come first and are not the end.
 */
export function observeJob(job: { status?: { active?: number; conditions?: JobCondition[] } }): Observed {
  const conditions = job.status?.conditions ?? [];
  const isTrue = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const complete = isTrue('Complete');
  if (complete) return { state: 'succeeded', exitCode: 0, detail: complete.reason ?? 'Complete' };
  const failed = isTrue('Failed');
  if (failed) return { state: 'failed', error: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the Job failed'}`, detail: failed.reason };
  if ((job.status?.active ?? 0) > 0) return { state: 'running' };
  const suspended = isTrue('Suspended');
  return { state: 'submitted', ...(suspended ? { detail: 'suspended (waiting for admission)' } : {}) };
}
