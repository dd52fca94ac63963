/** Schema building blocks shared by every subsystem's config. */
import { z } from 'zod';
import { DURATION_PATTERN, durationProblem, parseDuration } from '../kernel/duration.js';
import { EVENT_CODES } from '../kernel/events.js';
import { stringProblem } from './limits.js';

/**
 * A duration in milliseconds; accepts "250ms", "5s", "1m", "1h30m" or a bare number of seconds,
 * up to {@link MAX_DURATION_MS} (what a timer can hold; longer would fire at once).
 */
export const duration = z
  .union([z.number(), z.string().regex(new RegExp(DURATION_PATTERN), { error: (issue) => durationProblem(issue.input) ?? 'expected a duration' })], {
    error: (issue) => durationProblem(issue.input) ?? 'expected a duration',
  })
  .transform((v, ctx) => {
    const problem = durationProblem(v);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return parseDuration(v) as number;
  })
  .meta({ description: 'A duration: "250ms", "5s", "1m", "1h", or a bare number of seconds; at most 24d20h.' });

/** An integer that may arrive as a string after `${VAR}` interpolation. */
export function intLike(min: number, max: number) {
  return z
    .union([z.number().int(), z.string().regex(/^\s*-?\d+\s*$/, `expected an integer from ${min} to ${max}`)], {
      error: `expected an integer from ${min} to ${max}`,
    })
    .transform((v) => (typeof v === 'number' ? v : Number(v)))
    .pipe(z.number().int().min(min).max(max));
}

/** A boolean that may arrive as "true"/"false" after interpolation. */
export const boolLike = z
  .union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', '1', '0'])], { error: 'expected true or false' })
  .transform((v) => v === true || v === 'true' || v === 'yes' || v === '1');

export const SIGNALS = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGKILL',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGALRM',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGPWR',
] as const;
export type SignalName = (typeof SIGNALS)[number];
export const signalName = z.enum(SIGNALS, { error: `expected a signal name: ${SIGNALS.join(', ')}` });

export const eventCode = z.enum(EVENT_CODES, { error: `expected an event: ${EVENT_CODES.join(', ')}` });

/** A string that can be a process argument: no NUL byte, at most MAX_ARG_STRLEN. */
const argString = z.string().check((ctx) => {
  const problem = stringProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', message: `this ${problem}`, input: ctx.value });
});

/** A command: an argv array, or a string split with shell-word rules (no shell unless asked). */
export const command = z.union([argString.min(1), z.array(argString).min(1)], {
  error: 'expected a command: a string or a non-empty array of strings',
});

/** Environment maps accept scalars and turn them into strings; each `KEY=VALUE` must fit a process. */
export const envMap = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'),
    z.union([z.string(), z.number(), z.boolean()]).transform(String),
  )
  .superRefine((env, ctx) => {
    for (const [k, v] of Object.entries(env)) {
      const problem = stringProblem(`${k}=${v}`);
      if (problem) ctx.addIssue({ code: 'custom', message: `${k}=… ${problem}`, path: [k] });
    }
  });

export const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'names start with a letter or digit, then letters, digits, _ . -');
