/** Comparing validated config values: a job, a template, a section. */

/** A stable text form of a validated config value (Infinity survives, key order is the schema's). */
function normalize(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v));
}

/** Whether two validated config values are the same definition. */
export function sameConfig(a: unknown, b: unknown): boolean {
  return normalize(a) === normalize(b);
}
