/**
 * Telling a ContainerPilot config from a Pilotfish one, without the converter: `pilotfish run`
 * of a Pilotfish config in JSON decides here, and loads the converter (its JSON5 parser, its Go
 * template engine) only for a config that is ContainerPilot's or may be.
 */

/** Top-level keys of ContainerPilot 2 and 3 configs. */
export const V2_KEYS = [
  'consul',
  'etcd',
  'logging',
  'onStart',
  'preStart',
  'preStop',
  'postStop',
  'stopTimeout',
  'services',
  'backends',
  'tasks',
  'coprocesses',
  'telemetry',
];
export const V3_KEYS = ['consul', 'logging', 'jobs', 'watches', 'telemetry', 'control', 'stopTimeout'];
/** Keys only ContainerPilot 2 has. */
export const V2_ONLY = V2_KEYS.filter((k) => !V3_KEYS.includes(k));

/** A JSON object (not an array, not null). Here, below the converter, which shares it (common.ts). */
export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Comments and blank space before a JSON5 object's first brace. */
export const LEADING = /^(?:\s+|\/\/[^\n]*\n?|\/\*[\s\S]*?\*\/)*/;

/** The file $CONTAINERPILOT names (without ContainerPilot 2's file:// prefix), if any. */
export function containerPilotFile(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.CONTAINERPILOT;
  return v ? v.replace(/^file:\/\//, '') : undefined;
}

/** Whether a parsed config object is ContainerPilot's: keys or shapes only ContainerPilot has. */
export function isContainerPilotObject(parsed: unknown): boolean {
  if (!isObj(parsed)) return false;
  if (V2_ONLY.some((k) => k in parsed)) return true;
  if (['templates', 'vault', 'backup', 'election', 'signals', '$schema'].some((k) => k in parsed)) return false;
  if (typeof parsed.consul === 'string' || (isObj(parsed.consul) && ('scheme' in parsed.consul || 'tls' in parsed.consul))) return true;
  const jobs = Array.isArray(parsed.jobs) ? parsed.jobs.filter(isObj) : [];
  if (jobs.some((j) => 'main' in j || 'shell' in j || 'initialStatus' in j || 'env' in j)) return false;
  if (
    jobs.some(
      (j) =>
        'initial_status' in j ||
        isObj(j.consul) ||
        (isObj(j.when) && typeof j.when.source === 'string' && j.when.source.startsWith('watch.')) ||
        (isObj(j.logging) && 'raw' in j.logging),
    )
  )
    return true;
  const watches = Array.isArray(parsed.watches) ? parsed.watches.filter(isObj) : [];
  return watches.some((w) => !('service' in w) && !('key' in w) && !('prefix' in w));
}

/**
 * What can be told without the converter: false for text that is not a JSON object (YAML) or
 * is plain JSON with Pilotfish's shape; true for Go templates, the file $CONTAINERPILOT names, or
 * plain JSON with ContainerPilot's shape; undefined for what plain JSON cannot read (comments,
 * trailing commas, unquoted keys: JSON5), which the converter's own check decides.
 */
export function seemsContainerPilot(text: string, named = false): boolean | undefined {
  const body = text.replace(LEADING, '');
  if (!body.startsWith('{')) return false;
  if (body.includes('{{') || named) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return isContainerPilotObject(parsed);
}
