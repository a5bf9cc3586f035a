// The kubernetes launcher. No API server can run here, so the real client (@kubernetes/client-node)
// talks to a loopback stand-in that checks what the API server would: the method and path, the
// credentials, the content type, and that the body is a valid batch/v1 Job (the official schema,
// kubernetes-models) in the namespace of the path. Its Jobs' conditions move to Complete or Failed.
import { KubeConfig } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../src/config/load.js';
import type { KubernetesLauncherConfig } from '../src/config/schema.js';
import { buildJob, GPU_RESOURCE, KUEUE_QUEUE_LABEL, observeJob } from '../src/feedback/launchers/kubernetes-job.js';
import { KubernetesLauncher } from '../src/feedback/launchers/kubernetes.js';
import { LauncherError, type LaunchSpec } from '../src/feedback/launchers/launcher.js';
import { startUpstream, type Upstream } from './helpers.js';

const DATA = '/var/lib/tunewatch';
const TOKEN = 'cluster-token-1';

function spec(jobId: string): LaunchSpec {
  const dir = join(DATA, 'retrain', 'datasets', 'support-bot', 'ds-1');
  return {
    jobId,
    model: 'support-bot',
    baseModel: 'llama-3-8b',
    dataset: { dir, train: join(dir, 'train.jsonl'), validation: join(dir, 'validation.jsonl'), preferences: join(dir, 'preferences.train.jsonl'), preferencesValidation: null, manifest: join(dir, 'manifest.json') },
    outputDir: join(DATA, 'retrain', 'jobs', jobId, 'output'),
    logPath: join(DATA, 'retrain', 'jobs', jobId, 'train.log'),
  };
}

/** A launcher config as the config loader fills it in (defaults applied). */
function launcherConfig(extra: object = {}): KubernetesLauncherConfig {
  const config = validate({
    models: [{ name: 'm', deployments: [{ version: 'v1', upstream: 'http://x' }], retrain: { launcher: { kind: 'kubernetes', image: 'ghcr.io/acme/trainer:1.2', command: ['python', 'sft.py'], dataset: { volume: { claimName: 'tunewatch-data', mountPath: '/data' } }, ...extra } } }],
  });
  return config.models[0]!.retrain!.launcher as KubernetesLauncherConfig;
}

interface Stored {
  job: Record<string, any>;
  polls: number;
}
const jobs = new Map<string, Stored>();
const seen: { method: string; path: string }[] = [];
let server: Upstream;
let kubeConfig: KubeConfig;

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });

beforeAll(async () => {
  server = await startUpstream((req, res, body) => {
    const send = (code: number, value: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const path = new URL(req.url!, 'http://x').pathname;
    seen.push({ method: req.method!, path });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const create = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(path);
    if (create && req.method === 'POST') {
      if (create[1] === 'locked') return send(403, status(403, 'Forbidden', `jobs.batch is forbidden: User "tunewatch" cannot create resource "jobs" in API group "batch" in the namespace "locked"`));
      if (!String(req.headers['content-type']).startsWith('application/json')) return send(415, status(415, 'UnsupportedMediaType', 'unsupported media type'));
      const job = JSON.parse(body);
      try {
        new Job(job).validate();
      } catch (err) {
        return send(422, status(422, 'Invalid', `Job is invalid: ${(err as Error).message}`));
      }
      if (job.metadata.namespace !== create[1]) return send(400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
      const key = `${create[1]}/${job.metadata.name}`;
      if (jobs.has(key)) return send(409, status(409, 'AlreadyExists', `jobs.batch "${job.metadata.name}" already exists`));
      jobs.set(key, { job, polls: 0 });
      return send(201, { ...job, metadata: { ...job.metadata, uid: 'u-1', creationTimestamp: new Date().toISOString() } });
    }
    const one = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)(\/status)?$/.exec(path);
    const stored = one && jobs.get(`${one[1]}/${one[2]}`);
    if (!stored) return send(404, status(404, 'NotFound', `jobs.batch "${one?.[2]}" not found`));
    if (req.method === 'DELETE' && !one![3]) {
      expect(JSON.parse(body || '{}').propagationPolicy ?? new URL(req.url!, 'http://x').searchParams.get('propagationPolicy')).toBe('Background');
      jobs.delete(`${one![1]}/${one![2]}`);
      return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    }
    if (req.method === 'GET' && one![3]) {
      // Running, then an interim condition, then the end: Failed for jobs named *-fails, else Complete.
      const poll = stored.polls++;
      const fails = String(one![2]).endsWith('-fails');
      const conditions =
        poll === 0 ? [] : poll === 1 ? [{ type: fails ? 'FailureTarget' : 'SuccessCriteriaMet', status: 'True' }] :
          [fails ? { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } : { type: 'Complete', status: 'True' }];
      return send(200, { ...stored.job, status: { active: poll < 2 ? 1 : 0, conditions } });
    }
    return send(405, status(405, 'MethodNotAllowed', 'method not allowed'));
  });
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'loopback', server: server.url.replace(/\/v1$/, ''), skipTLSVerify: true }],
    users: [{ name: 'tunewatch', token: TOKEN }],
    contexts: [{ name: 'loopback', cluster: 'loopback', user: 'tunewatch' }],
    currentContext: 'loopback',
  });
});

afterAll(() => server?.close());

async function follow(launcher: KubernetesLauncher, launcherId: string) {
  const states: string[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await launcher.status({ id: 'j', launcherId, log: '', output: '' });
    states.push(s.state);
    if (['succeeded', 'failed', 'cancelled'].includes(s.state)) return { states, last: s };
  }
  throw new Error(`never finished: ${states.join(', ')}`);
}

describe('the Job object (offline, against the batch/v1 schema)', () => {
  it('asks for the GPUs, mounts the data volume and gives the trainer the pod\'s paths', () => {
    const job = buildJob(launcherConfig({ gpus: 2, nodeSelector: { 'nvidia.com/gpu.product': 'H100' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], activeDeadlineSeconds: 7200 }), spec('ft-support-bot-aaaaaaaaaaaa'), DATA) as any;
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.metadata).toMatchObject({ name: 'ft-support-bot-aaaaaaaaaaaa', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'tunewatch', 'tunewatch.dev/model': 'support-bot' } });
    expect(job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 86400, activeDeadlineSeconds: 7200 });
    expect(job.spec.suspend).toBeUndefined();
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Never', nodeSelector: { 'nvidia.com/gpu.product': 'H100' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(pod.volumes).toEqual([{ name: 'tunewatch-data', persistentVolumeClaim: { claimName: 'tunewatch-data' } }]);
    const container = pod.containers[0];
    expect(container).toMatchObject({ image: 'ghcr.io/acme/trainer:1.2', command: ['python', 'sft.py'], resources: { limits: { [GPU_RESOURCE]: '2' } }, volumeMounts: [{ name: 'tunewatch-data', mountPath: '/data' }] });
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({
      TUNEWATCH_DATASET: '/data/retrain/datasets/support-bot/ds-1/train.jsonl',
      TUNEWATCH_PREFERENCES: '/data/retrain/datasets/support-bot/ds-1/preferences.train.jsonl',
      TUNEWATCH_PREFERENCES_VALIDATION: '',
      TUNEWATCH_OUTPUT_DIR: '/data/retrain/jobs/ft-support-bot-aaaaaaaaaaaa/output',
      TUNEWATCH_BASE_MODEL: 'llama-3-8b',
      TUNEWATCH_JOB_ID: 'ft-support-bot-aaaaaaaaaaaa',
    });
  });

  it('queues through Kueue (label, created suspended) and reads the dataset from a URL', () => {
    const job = buildJob(launcherConfig({ queueName: 'gpu-queue', gpus: 0, dataset: { url: 's3://ml-data/tunewatch/' } }), spec('ft-support-bot-bbbbbbbbbbbb'), DATA) as any;
    expect(job.metadata.labels[KUEUE_QUEUE_LABEL]).toBe('gpu-queue');
    expect(job.spec.suspend).toBe(true);
    const container = job.spec.template.spec.containers[0];
    expect(container.resources).toBeUndefined();
    expect(container.env.find((e: { name: string }) => e.name === 'TUNEWATCH_MANIFEST').value).toBe('s3://ml-data/tunewatch/retrain/datasets/support-bot/ds-1/manifest.json');
    expect(job.spec.template.spec.volumes).toBeUndefined();
  });

  it('refuses what the API server would refuse, before sending anything', () => {
    expect(() => buildJob(launcherConfig(), spec('Not_A_DNS_Name'), DATA)).toThrow(LauncherError);
    expect(() => buildJob({ ...launcherConfig(), backoffLimit: 'x' as never }, spec('ft-ok'), DATA)).toThrow(/not a valid batch\/v1 Job/);
    expect(() => buildJob(launcherConfig(), { ...spec('ft-ok'), outputDir: '/elsewhere/out' }, DATA)).toThrow(/not inside tunewatch's data folder/);
  });

  it('is finished only on a True Complete or Failed condition', () => {
    expect(observeJob({ status: { active: 1, conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] } }).state).toBe('running');
    expect(observeJob({ status: { conditions: [{ type: 'FailureTarget', status: 'True' }] } }).state).toBe('submitted');
    expect(observeJob({ status: { conditions: [{ type: 'Complete', status: 'False' }] } }).state).toBe('submitted');
    expect(observeJob({ status: { conditions: [{ type: 'Complete', status: 'True' }] } })).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(observeJob({ status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } })).toMatchObject({ state: 'failed', error: 'DeadlineExceeded: Job was active longer than specified deadline' });
    expect(observeJob({ status: { conditions: [{ type: 'Suspended', status: 'True' }] } }).detail).toMatch(/suspended/);
  });
});

describe('the launcher through the real client', () => {
  it('creates the Job and follows it to Complete', async () => {
    const launcher = new KubernetesLauncher(launcherConfig({ namespace: 'ml' }), { dataRoot: DATA, kubeConfig });
    const submitted = await launcher.submit(spec('ft-support-bot-cccccccccccc'));
    expect(submitted).toEqual({ launcherId: 'ml/ft-support-bot-cccccccccccc', log: 'kubectl logs -n ml job/ft-support-bot-cccccccccccc', output: '/data/retrain/jobs/ft-support-bot-cccccccccccc/output' });
    expect(seen).toContainEqual({ method: 'POST', path: '/apis/batch/v1/namespaces/ml/jobs' });
    const { states } = await follow(launcher, submitted.launcherId);
    expect(states).toEqual(['running', 'running', 'succeeded']);
    expect(seen).toContainEqual({ method: 'GET', path: '/apis/batch/v1/namespaces/ml/jobs/ft-support-bot-cccccccccccc/status' });
  });

  it('follows a Job to Failed with the API server\'s reason', async () => {
    const launcher = new KubernetesLauncher(launcherConfig(), { dataRoot: DATA, kubeConfig });
    const submitted = await launcher.submit(spec('ft-support-bot-dd-fails'));
    const { states, last } = await follow(launcher, submitted.launcherId);
    expect(states).toEqual(['running', 'running', 'failed']);
    expect(last.error).toBe('BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  it('adopts a Job that already exists (the same snapshot never launches twice)', async () => {
    const launcher = new KubernetesLauncher(launcherConfig(), { dataRoot: DATA, kubeConfig });
    const first = await launcher.submit(spec('ft-support-bot-eeeeeeeeeeee'));
    const again = await launcher.submit(spec('ft-support-bot-eeeeeeeeeeee'));
    expect(again).toEqual(first);
    expect([...jobs.keys()].filter((k) => k.endsWith('eeeeeeeeeeee'))).toHaveLength(1);
  });

  it('cancels by deleting the Job, and then reads cancelled', async () => {
    const launcher = new KubernetesLauncher(launcherConfig(), { dataRoot: DATA, kubeConfig });
    const submitted = await launcher.submit(spec('ft-support-bot-ffffffffffff'));
    await launcher.cancel({ id: 'j', ...submitted });
    expect(seen).toContainEqual({ method: 'DELETE', path: '/apis/batch/v1/namespaces/default/jobs/ft-support-bot-ffffffffffff' });
    expect((await launcher.status({ id: 'j', ...submitted })).state).toBe('cancelled');
    const other = new KubernetesLauncher(launcherConfig(), { dataRoot: DATA, kubeConfig });
    expect(await other.status({ id: 'j', ...submitted })).toMatchObject({ state: 'failed', error: expect.stringMatching(/no longer exists/) });
  });

  it('turns a refusal into a LauncherError with the API server\'s message', async () => {
    const launcher = new KubernetesLauncher(launcherConfig({ namespace: 'locked' }), { dataRoot: DATA, kubeConfig });
    await expect(launcher.submit(spec('ft-support-bot-gggggggggggg'))).rejects.toThrow(/kubernetes launcher: cannot create Job locked\/ft-support-bot-gggggggggggg: the API server answered 403: jobs.batch is forbidden/);
    const wrongToken = new KubeConfig();
    wrongToken.loadFromOptions({ ...JSON.parse(JSON.stringify({ clusters: kubeConfig.clusters, contexts: kubeConfig.contexts, currentContext: 'loopback' })), users: [{ name: 'tunewatch', token: 'wrong' }] });
    await expect(new KubernetesLauncher(launcherConfig(), { dataRoot: DATA, kubeConfig: wrongToken }).status({ id: 'j', launcherId: 'default/x', log: '', output: '' })).rejects.toThrow(/answered 401/);
    await expect(launcher.status({ id: 'j', launcherId: 'no-slash', log: '', output: '' })).rejects.toThrow(/not namespace\/name/);
  });
});
