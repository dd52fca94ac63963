/**
 * Durations in the config: "250ms", "5s", "1m", "2h", "1m30s", or a bare number of seconds.
 * Internally every duration is an integer number of milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * The longest duration a config may give: what a Node timer can hold (2^31-1 ms, about 24.8
 * days). A longer delay would not wait at all: setTimeout fires it after 1 ms.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const DURATION_PATTERN = '^\\s*(?:\\d+(?:\\.\\d+)?|(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+)\\s*$';

/** Returns milliseconds, or undefined when the text is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Math.round(total);
}

/** Why a value is not a duration the config accepts; undefined when it is one. */
export function durationProblem(value: unknown): string | undefined {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
  if (typeof value !== 'string' && typeof value !== 'number') return 'expected a duration such as "250ms", "5s", "1m", "1h30m", or a number of seconds';
  const ms = parseDuration(value);
  if (ms === undefined) return `expected a duration such as "250ms", "5s", "1m", "1h30m", or a number of seconds; got ${shown}`;
  if (ms > MAX_DURATION_MS) return `${shown} is too long: a duration is at most 24d20h31m23s (2^31-1 ms, the longest a timer can wait)`;
  return undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
