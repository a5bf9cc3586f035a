// Which endpoints the gate compares: the candidate (a deployment's version or a URL) and the baseline
// (a deployment's version; default the model's baseline), from the config. Pure.
import type { Config, ModelConfig } from '../config/schema.js';
import { roleOf } from '../config/schema.js';
import type { ReplayTarget } from './replay.js';

export class GateUsageError extends Error {
  override name = 'GateUsageError';
}

export interface GateTargets {
  model: ModelConfig;
  baseline: ReplayTarget;
  candidate: ReplayTarget;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export function resolveTargets(config: Config, modelName: string, candidate: string, baseline: string | undefined, env: NodeJS.ProcessEnv = process.env, candidateVersion?: string): GateTargets {
  const model = config.models.find((m) => m.name === modelName);
  if (!model) throw new GateUsageError(`unknown model '${modelName}'; the config's models: ${config.models.map((m) => m.name).join(', ')}`);
  const versions = model.deployments.map((d) => d.version).join(', ');
  const deployment = (version: string) => model.deployments.find((d) => d.version === version);
  const target = (d: ModelConfig['deployments'][number]): ReplayTarget => ({
    name: d.version,
    url: d.upstream,
    model: d.upstreamModel ?? model.name,
    apiKey: d.apiKeyEnv ? env[d.apiKeyEnv] : undefined,
  });
  const baseDeployment = baseline === undefined ? model.deployments.find((d) => roleOf(d) === 'baseline') : deployment(baseline);
  if (!baseDeployment) {
    throw new GateUsageError(baseline === undefined ? `model ${model.name} has no baseline deployment; pass --baseline VERSION (${versions})` : `--baseline: model ${model.name} has no deployment with version '${baseline}'; its versions: ${versions}`);
  }
  let cand: ReplayTarget;
  if (isUrl(candidate)) {
    const known = model.deployments.find((d) => d.upstream.replace(/\/+$/, '') === candidate.replace(/\/+$/, ''));
    cand = known ? target(known) : { name: candidate, url: candidate, model: baseDeployment.upstreamModel ?? model.name };
    if (candidateVersion) cand = { ...cand, name: candidateVersion };
  } else {
    const d = deployment(candidate);
    if (!d) throw new GateUsageError(`--candidate: '${candidate}' is neither an http(s) URL nor a version of ${model.name} (${versions})`);
    if (candidateVersion && candidateVersion !== d.version) throw new GateUsageError(`--candidate-version ${candidateVersion} names a URL candidate; --candidate ${candidate} is already a version`);
    cand = target(d);
  }
  if (cand.name === baseDeployment.version) throw new GateUsageError(`--candidate and --baseline are both ${cand.name}; the gate compares two versions`);
  return { model, baseline: target(baseDeployment), candidate: cand };
}
