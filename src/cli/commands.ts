/** The command table: each command's lazy loader, beside its usage (./usage.ts). */
import { USAGES, type CommandName, type Usage } from './usage.js';

export interface Command {
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry extends Usage {
  load: () => Promise<Command>;
}

const LOADERS: Record<CommandName, () => Promise<Command>> = {
  run: () => import('./commands/run.js'),
  validate: () => import('./commands/validate.js'),
  schema: () => import('./commands/schema.js'),
  version: () => import('./commands/version.js'),
  status: () => import('./commands/status.js'),
  health: () => import('./commands/health.js'),
  reload: () => import('./commands/reload.js'),
  maintenance: () => import('./commands/maintenance.js'),
  putenv: () => import('./commands/putenv.js'),
  putmetric: () => import('./commands/putmetric.js'),
  job: () => import('./commands/job.js'),
  stepdown: () => import('./commands/stepdown.js'),
  migrate: () => import('./commands/migrate.js'),
  backup: () => import('./commands/backup.js'),
  restore: () => import('./commands/restore.js'),
  snapshots: () => import('./commands/snapshots.js'),
  help: () => import('./commands/help.js'),
};

export const COMMANDS: Record<string, CommandEntry> = Object.fromEntries(
  (Object.keys(USAGES) as CommandName[]).map((name) => [name, { ...USAGES[name], load: LOADERS[name] }]),
);
