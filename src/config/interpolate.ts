/**
 * `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (default when
 * unset) and `$$` (a literal `$`) in string values. An unset variable without a default is an
 * error, not an empty string: a silent empty value is how configs go wrong in production.
 */
const TOKEN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g;

export class InterpolationError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set; give a default with \${${variable}:-value}`);
  }
}

export function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  if (!text.includes('$')) return text;
  return text.replace(TOKEN, (whole, variable: string | undefined, op: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    const value = env[variable as string];
    if (op === ':-') return value === undefined || value === '' ? (fallback ?? '') : value;
    if (op === '-') return value === undefined ? (fallback ?? '') : value;
    if (value === undefined) throw new InterpolationError(variable as string);
    return value;
  });
}
