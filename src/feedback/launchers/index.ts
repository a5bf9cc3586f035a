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

export function createLauncher(config: LauncherConfig, context: LauncherContext): Launcher {
  switch (config.kind) {
    case 'command':
      return new CommandLauncher(config, context.env);
    case 'slurm':
      return new SlurmLauncher(config);
    case 'openai':
      return new OpenAiLauncher(config, { env: context.env });
    default:
      throw new Error(`launcher kind ${config.kind} is not built yet`);
  }
}
