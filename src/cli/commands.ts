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
  backup: { summary: 'take a backup snapshot now', usage: 'pilotfish backup [--config FILE] [--json]', load: () => import('./commands/backup.js') },
  restore: { summary: 'restore the newest good backup snapshot (or --snapshot NAME)', usage: 'pilotfish restore [--config FILE] [--snapshot NAME] [--policy always|if-empty] [--json]', load: () => import('./commands/restore.js') },
  snapshots: { summary: 'list backup snapshots, newest first', usage: 'pilotfish snapshots [--config FILE] [--json]', load: () => import('./commands/snapshots.js') },
  help: {
    summary: 'show this help',
    usage: 'pilotfish help [COMMAND]',
    load: () => import('./commands/help.js'),
  },
};
