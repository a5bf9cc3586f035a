import type { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { configFile } from './errors.js';

export const RULES_FILE = 'tunewatch.rules.yml';
export const ALERTMANAGER_FILE = 'alertmanager.example.yml';

/** Writes the Prometheus rules for the config's SLOs and an example Alertmanager config; returns the paths. */
export async function buildAlerts(file: string, outDir = 'alerts'): Promise<string[]> {
  const config = await configFile(file);
  const [{ toSloModel }, { renderAlertmanagerExample, renderRules }] = await Promise.all([import('../slo/model.js'), import('../slo/rules.js')]);
  const slos = config.slos.map(toSloModel);
  const files: Array<[string, string]> = [
    [join(outDir, RULES_FILE), renderRules(slos, config.alerting, basename(file))],
    [join(outDir, ALERTMANAGER_FILE), renderAlertmanagerExample()],
  ];
  await mkdir(outDir, { recursive: true });
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([path]) => path);
}

/** Adds `alerts build --config FILE --out DIR` to the CLI. */
export function registerAlertsCommand(program: Command): Command {
  const alerts = program.command('alerts').description('Prometheus alerting for the configured SLOs');
  alerts
    .command('build')
    .description(`write ${RULES_FILE} (recording and burn-rate alert rules) and ${ALERTMANAGER_FILE}`)
    .option('-c, --config <file>', 'config file', 'tunewatch.yaml')
    .option('-o, --out <dir>', 'output directory', 'alerts')
    .action(async (opts: { config: string; out: string }) => {
      for (const path of await buildAlerts(opts.config, opts.out)) console.log(`wrote ${path}`);
    });
  return alerts;
}
