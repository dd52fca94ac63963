/** The command table: names, one-line summaries and lazy loaders. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  summary: string;
  usage: string;
  load: () => Promise<Command>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  run: {
    summary: 'run the supervisor (as the container entrypoint)',
    usage: 'pilotfish run [--config FILE]   (also $PILOTFISH_CONFIG; default /etc/pilotfish.yaml)',
    load: () => import('./commands/run.js'),
  },
  validate: {
    summary: 'check a config file; exit 0 if valid, 1 if not',
    usage: 'pilotfish validate --config FILE',
    load: () => import('./commands/validate.js'),
  },
  schema: {
    summary: "print the config's JSON Schema (draft-07)",
    usage: 'pilotfish schema',
    load: () => import('./commands/schema.js'),
  },
  version: {
    summary: 'print the version',
    usage: 'pilotfish version',
    load: () => import('./commands/version.js'),
  },
  status: { summary: 'show jobs, health and subsystems (a table on a terminal, JSON when piped)', usage: 'pilotfish status [--json] [--socket PATH]', load: () => import('./commands/status.js') },
  health: { summary: "exit 0 if healthy, 1 if not (for Docker's HEALTHCHECK)", usage: 'pilotfish health [--quiet] [--socket PATH]', load: () => import('./commands/health.js') },
  reload: { summary: 're-read the config; restart only the jobs that changed', usage: 'pilotfish reload [--json] [--socket PATH]', load: () => import('./commands/reload.js') },
  maintenance: { summary: 'enter or leave maintenance mode', usage: 'pilotfish maintenance on|off [--socket PATH]', load: () => import('./commands/maintenance.js') },
  putenv: { summary: 'set environment variables for processes started from now on', usage: 'pilotfish putenv KEY=VALUE... [--unset KEY] [--socket PATH]', load: () => import('./commands/putenv.js') },
  putmetric: { summary: 'feed a custom metric declared in telemetry.metrics', usage: 'pilotfish putmetric NAME=VALUE... [--socket PATH]', load: () => import('./commands/putmetric.js') },
  job: { summary: 'signal, restart or stop one job', usage: 'pilotfish job signal NAME SIGNAL | restart NAME | stop NAME [--socket PATH]', load: () => import('./commands/job.js') },
  stepdown: { summary: 'give up the primary role (election)', usage: 'pilotfish stepdown [--socket PATH]', load: () => import('./commands/stepdown.js') },
  migrate: { summary: 'convert a ContainerPilot v3 config to Pilotfish YAML', usage: 'pilotfish migrate CONTAINERPILOT.json5 > pilotfish.yaml', load: () => import('./commands/migrate.js') },
  backup: { summary: 'take a backup snapshot now', usage: 'pilotfish backup [--config FILE] [--json] [--socket PATH | --direct]', load: () => import('./commands/backup.js') },
  restore: { summary: 'restore the newest good backup snapshot (or --snapshot NAME)', usage: 'pilotfish restore [--config FILE] [--snapshot NAME] [--policy always|if-empty] [--json]', load: () => import('./commands/restore.js') },
  snapshots: { summary: 'list backup snapshots, newest first', usage: 'pilotfish snapshots [--config FILE] [--json]', load: () => import('./commands/snapshots.js') },
  help: {
    summary: 'show this help',
    usage: 'pilotfish help [COMMAND]',
    load: () => import('./commands/help.js'),
  },
};
