/**
 * Every command's one-line summary and usage: what `pilotfish help` and each command's `--help`
 * print. Kept apart from the loaders (./commands.ts) so help does not import the command table
 * that loads it.
 */
export interface Usage {
  summary: string;
  usage: string;
}

export const USAGES = {
  run: {
    summary: 'run the supervisor (as the container entrypoint)',
    usage:
      'pilotfish run [--config FILE] [[--] CMD ARGS...]   (also $PILOTFISH_CONFIG, then $CONTAINERPILOT; default /etc/pilotfish.yaml; a ContainerPilot 2/3 config runs as it is; CMD is its main command. With CMD and no config: init mode, as tini, see docs/init.md; also pilotfish -- CMD)',
  },
  validate: {
    summary: 'check a config file; exit 0 if valid, 1 if not',
    usage: 'pilotfish validate [FILE | --config FILE]   (a ContainerPilot config is checked as converted)',
  },
  schema: { summary: "print the config's JSON Schema (draft-07)", usage: 'pilotfish schema' },
  version: { summary: 'print the version', usage: 'pilotfish version' },
  status: { summary: 'show jobs, health and subsystems (a table on a terminal, JSON when piped)', usage: 'pilotfish status [--json] [--socket PATH]' },
  health: { summary: "exit 0 if healthy, 1 if not (for Docker's HEALTHCHECK)", usage: 'pilotfish health [--quiet] [--socket PATH]' },
  reload: { summary: 're-read the config; restart only the jobs that changed', usage: 'pilotfish reload [--json] [--socket PATH]' },
  maintenance: { summary: 'enter or leave maintenance mode', usage: 'pilotfish maintenance on|off [--socket PATH]' },
  putenv: { summary: 'set environment variables for processes started from now on', usage: 'pilotfish putenv KEY=VALUE... [--unset KEY] [--socket PATH]' },
  putmetric: { summary: 'feed a custom metric declared in telemetry.metrics', usage: 'pilotfish putmetric NAME=VALUE... [--socket PATH]' },
  job: { summary: 'signal, restart or stop one job', usage: 'pilotfish job signal NAME SIGNAL | restart NAME | stop NAME [--socket PATH]' },
  stepdown: { summary: 'give up the primary role (election)', usage: 'pilotfish stepdown [--socket PATH]' },
  migrate: {
    summary: 'convert a ContainerPilot 2 or 3 config to Pilotfish YAML',
    usage:
      "pilotfish migrate [FILE | --config FILE] [--env NAME=VALUE]... [-- APP ARGS...] > pilotfish.yaml   (--env: decide templates for this environment; APP: ContainerPilot 2's app)",
  },
  backup: { summary: 'take a backup snapshot now', usage: 'pilotfish backup [--config FILE] [--json] [--socket PATH | --direct]' },
  restore: {
    summary: 'restore the newest good backup snapshot (or --snapshot NAME)',
    usage: 'pilotfish restore [--config FILE] [--snapshot NAME] [--policy always|if-empty] [--json]',
  },
  snapshots: { summary: 'list backup snapshots, newest first', usage: 'pilotfish snapshots [--config FILE] [--json]' },
  help: { summary: 'show this help', usage: 'pilotfish help [COMMAND]' },
} satisfies Record<string, Usage>;

export type CommandName = keyof typeof USAGES;

/** A command's full help text. */
export function helpText(name: CommandName): string {
  const u = USAGES[name];
  return `${u.summary}\n\nusage: ${u.usage}\n`;
}
