// The `kubernetes` launcher: creates the batch/v1 Job (kubernetes-job.ts) through the official client
// with in-cluster or kubeconfig credentials, follows its Complete/Failed conditions, and deletes it to
// cancel. The Job's name is the tunewatch job id, so `namespace/name` finds it again after a restart.
import { ApiException, BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import type { KubernetesLauncherConfig } from '../../config/schema.js';
import { buildJob, observeJob, podPath } from './kubernetes-job.js';
import { LauncherError, type JobHandle, type Launcher, type LaunchSpec, type Observed, type Submitted } from './launcher.js';

export interface KubernetesOptions {
  /** tunewatch's data folder (absolute): what the dataset volume or URL holds. */
  dataRoot: string;
  /** Credentials; default: retrain.launcher.kubeconfig, else in-cluster, else the default kubeconfig. */
  kubeConfig?: KubeConfig;
  env?: NodeJS.ProcessEnv;
}

function defaultKubeConfig(config: KubernetesLauncherConfig, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The API server's words for a failed call. */
function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message = (body as { message?: string } | undefined)?.message;
    return `the API server answered ${err.code}${message ? `: ${message}` : ''}`;
  }
  return (err as Error).message;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

const codeOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

export class KubernetesLauncher implements Launcher {
  readonly kind = 'kubernetes' as const;
  private api?: BatchV1Api;
  private readonly cancelled = new Set<string>();

  constructor(
    private readonly config: KubernetesLauncherConfig,
    private readonly options: KubernetesOptions,
  ) {}

  private client(): BatchV1Api {
    try {
      this.api ??= (this.options.kubeConfig ?? defaultKubeConfig(this.config, this.options.env ?? process.env)).makeApiClient(BatchV1Api);
    } catch (err) {
      throw new LauncherError('kubernetes', `no credentials for the cluster: ${(err as Error).message}`);
    }
    return this.api;
  }

  async submit(spec: LaunchSpec): Promise<Submitted> {
    const body = buildJob(this.config, spec, this.options.dataRoot);
    const { namespace } = this.config;
    const name = spec.jobId;
    try {
      await this.client().createNamespacedJob({ namespace, body: body as never });
    } catch (err) {
      // The same snapshot is the same Job: one that exists already is this job, not an error.
      if (codeOf(err) !== 409) throw new LauncherError('kubernetes', `cannot create Job ${namespace}/${name}: ${describe(err)}`);
    }
    return { launcherId: `${namespace}/${name}`, log: `kubectl logs -n ${namespace} job/${name}`, output: podPath(this.config, this.options.dataRoot, spec.outputDir) };
  }

  async status(handle: JobHandle): Promise<Observed> {
    const [namespace, name] = this.split(handle);
    try {
      return observeJob((await this.client().readNamespacedJobStatus({ namespace, name })) as never);
    } catch (err) {
      if (codeOf(err) === 404) {
        return this.cancelled.has(handle.launcherId) ? { state: 'cancelled', error: 'the Job was deleted' } : { state: 'failed', error: `the Job ${namespace}/${name} no longer exists` };
      }
      throw new LauncherError('kubernetes', `cannot read Job ${namespace}/${name}: ${describe(err)}`);
    }
  }

  async cancel(handle: JobHandle): Promise<void> {
    const [namespace, name] = this.split(handle);
    this.cancelled.add(handle.launcherId);
    try {
      // Background: the Job goes now, its pods after it.
      await this.client().deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
    } catch (err) {
      if (codeOf(err) !== 404) throw new LauncherError('kubernetes', `cannot delete Job ${namespace}/${name}: ${describe(err)}`);
    }
  }

  private split(handle: JobHandle): [string, string] {
    const [namespace, name] = handle.launcherId.split('/');
    if (!namespace || !name) throw new LauncherError('kubernetes', `launcher id ${JSON.stringify(handle.launcherId)} is not namespace/name`);
    return [namespace, name];
  }
}
