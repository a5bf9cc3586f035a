// The launcher a model's retrain.launcher names.
import type { LauncherConfig } from '../../config/schema.js';
import { CommandLauncher } from './command.js';
import type { Launcher } from './launcher.js';
import { OpenAiLauncher } from './openai.js';
import { SlurmLauncher } from './slurm.js';

export interface LauncherContext {
  /** tunewatch's data folder (absolute): what a Kubernetes volume holds. */
  dataRoot: string;
  env?: NodeJS.ProcessEnv;
}

/** A launcher loaded at its first use: the Kubernetes client takes over a second to import. */
function lazy(kind: Launcher['kind'], load: () => Promise<Launcher>): Launcher {
  let loaded: Promise<Launcher> | undefined;
  const get = () => (loaded ??= load());
  return {
    kind,
    submit: async (spec) => (await get()).submit(spec),
    status: async (job) => (await get()).status(job),
    cancel: async (job) => (await get()).cancel(job),
  };
}

export function createLauncher(config: LauncherConfig, context: LauncherContext): Launcher {
  switch (config.kind) {
    case 'command':
      return new CommandLauncher(config, context.env);
    case 'slurm':
      return new SlurmLauncher(config);
    case 'kubernetes':
      return lazy('kubernetes', async () => new (await import('./kubernetes.js')).KubernetesLauncher(config, { dataRoot: context.dataRoot, env: context.env }));
    case 'openai':
      return new OpenAiLauncher(config, { env: context.env });
  }
}
