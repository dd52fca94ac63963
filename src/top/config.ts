/**
 * The whole config: read the file, check it against the schema of the sections it has
 * (./sections.ts), then the rules that span several sections (unique names, known event sources,
 * sections that need another). Only the top knows every section, so only it can check across them.
 */
import { ConfigError, type ConfigIssue } from '../config/errors.js';
import { parseWith, readConfigText, type ConfigSpec, type Positions } from '../config/load.js';
import { didYouMean } from '../config/suggest.js';
import { GLOBAL_SOURCE } from '../kernel/events.js';
import { FORWARDABLE } from '../pid1/config.js';
import { containerPilotFile, seemsContainerPilot } from '../migrate/detect.js';
import type { Config } from './schema.js';
import { eventSources, schemaFor } from './sections.js';

export interface LoadedConfig {
  file: string;
  config: Config;
  /** The validated text, for change detection on reload. */
  text: string;
  /** A ContainerPilot config run as it is (drop-in): its version, and what differs (log them once). */
  containerPilot?: { version: 2 | 3; notes: string[] };
}

export { ConfigError };

/**
 * Read and validate a config. A ContainerPilot 2 or 3 config (detected by its content; `file`
 * may also be the JSON text itself, as ContainerPilot 2 accepted in $CONTAINERPILOT) is
 * converted in memory first, exactly as `pilotfish migrate` would (src/migrate), its templates
 * decided by `env`. `app` is ContainerPilot 2's main command (its trailing arguments).
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, options: { app?: string[] } = {}): Promise<LoadedConfig> {
  const inline = file.trimStart().startsWith('{');
  const text = inline ? file : await readConfigText(file);
  // Only a JSON object can be a ContainerPilot config, and plain JSON is told apart without the
  // converter: a YAML config, or a Pilotfish config in JSON, never loads it.
  const named = file === containerPilotFile(env);
  const seems = seemsContainerPilot(text, named);
  if (seems === false) return { file, config: await parseConfig(text, file, env), text };
  const { fromContainerPilot, isContainerPilot } = await import('../migrate/dropin.js');
  if (seems === undefined && !isContainerPilot(text, named)) return { file, config: await parseConfig(text, file, env), text };
  const converted = fromContainerPilot(text, inline ? '$CONTAINERPILOT' : file, env, options.app);
  return { file, config: await parseConfig(converted.yaml, converted.file, env), text, containerPilot: { version: converted.version, notes: converted.notes } };
}

/** Parse and validate a config's text; only the schemas of the sections it has are loaded. */
export async function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  return parseWith(SPEC, text, file, env);
}

/** Rules that span several keys: unique names, one main job, known event sources. */
export function crossCheck(config: Config, where: Positions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  config.jobs.forEach((job, i) => {
    if (names.has(job.name)) issues.push(where.issue(['jobs', i, 'name'], `duplicate job name "${job.name}"`));
    names.set(job.name, i);
  });
  const mains = config.jobs.flatMap((j, i) => (j.main ? [i] : []));
  for (const i of mains.slice(1)) issues.push(where.issue(['jobs', i, 'main'], 'only one job can be main'));

  const sources = new Set<string>([GLOBAL_SOURCE, ...names.keys(), ...FORWARDABLE, 'SIGTERM', 'SIGINT']);
  for (const extra of eventSources(config)) sources.add(extra);
  const checkSource = (source: string, path: PropertyKey[]): void => {
    if (sources.has(source)) return;
    issues.push(where.issue(path, `unknown event source "${source}"${didYouMean(source, [...sources])}`));
  };
  config.jobs.forEach((job, i) => {
    if (job.when?.source !== undefined) checkSource(job.when.source, ['jobs', i, 'when', 'source']);
    job.when?.all?.forEach((t, k) => checkSource(t.source, ['jobs', i, 'when', 'all', k, 'source']));
  });
  issues.push(...whenCycles(config, where));
  config.backup?.triggers.events.forEach((t, k) => checkSource(t.source, ['backup', 'triggers', 'events', k, 'source']));
  if (config.backup?.primaryOnly && !config.election) {
    issues.push(where.issue(['backup', 'primaryOnly'], 'primaryOnly needs an election: section (which instance is the primary?)'));
  }
  const vaultSecrets = new Set(config.vault?.secrets.map((s) => s.name) ?? []);
  const checkVaultSecret = (name: string | undefined, path: PropertyKey[]): void => {
    if (name === undefined || vaultSecrets.has(name)) return;
    issues.push(
      where.issue(
        path,
        config.vault ? `unknown vault secret "${name}"${didYouMean(name, [...vaultSecrets])}` : `"${name}" needs a vault: section that reads it`,
      ),
    );
  };
  const key = config.backup?.encryption?.key;
  if (key && 'vault' in key) checkVaultSecret(key.vault.secret, ['backup', 'encryption', 'key', 'vault', 'secret']);
  const store = config.backup?.store;
  if (store && 's3' in store) checkVaultSecret(store.s3.credentials?.vault.secret, ['backup', 'store', 's3', 'credentials', 'vault', 'secret']);
  if (config.backup?.lease.backend === 'consul' && !config.consul) {
    issues.push(where.issue(['backup', 'lease', 'backend'], 'backend consul needs a consul: section'));
  }
  for (const [signal, route] of Object.entries(config.signals)) {
    route?.to.forEach((target, k) => {
      if (!names.has(target)) issues.push(where.issue(['signals', signal, 'to', k], `unknown job "${target}"`));
    });
  }
  return issues;
}

/**
 * Jobs that wait on each other can never start: a job whose `when` names itself, or a cycle of
 * jobs each waiting on the next (every job event needs its job to have run). One issue per
 * cycle, at the `when` of its first job, naming the cycle. Iterative depth-first search: linear.
 */
function whenCycles(config: Config, where: Positions): ConfigIssue[] {
  const index = new Map(config.jobs.map((j, i) => [j.name, i]));
  const edges = config.jobs.map((job) => {
    const out: Array<{ to: number; path: PropertyKey[] }> = [];
    const add = (source: string, path: PropertyKey[]): void => {
      const to = index.get(source);
      if (to !== undefined) out.push({ to, path });
    };
    if (job.when?.source !== undefined) add(job.when.source, ['when', 'source']);
    job.when?.all?.forEach((t, k) => add(t.source, ['when', 'all', k, 'source']));
    return out;
  });
  const issues: ConfigIssue[] = [];
  const state = new Uint8Array(config.jobs.length); // 0 new, 1 on the stack, 2 done
  const reported = new Set<string>();
  for (let root = 0; root < config.jobs.length; root++) {
    if (state[root] !== 0) continue;
    const stack: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
    const onPath: number[] = [root];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: number; next: number };
      const edge = edges[top.node]?.[top.next++];
      if (!edge) {
        state[top.node] = 2;
        stack.pop();
        onPath.pop();
        continue;
      }
      if (state[edge.to] === 0) {
        state[edge.to] = 1;
        stack.push({ node: edge.to, next: 0 });
        onPath.push(edge.to);
      } else if (state[edge.to] === 1) {
        const cycle = onPath.slice(onPath.lastIndexOf(edge.to));
        const key = [...cycle].sort((a, b) => a - b).join(',');
        if (reported.has(key)) continue;
        reported.add(key);
        const names = cycle.map((i) => config.jobs[i]?.name as string);
        const message =
          cycle.length === 1
            ? `job ${names[0]} waits on its own events: it can never start`
            : `jobs wait on each other in a cycle (${[...names, names[0]].join(' → ')}): none of them can ever start`;
        issues.push(where.issue(['jobs', top.node, ...edge.path], message));
      }
    }
  }
  return issues;
}

const SPEC: ConfigSpec<Config> = { schema: schemaFor, crossCheck };
