/**
 * Schema building blocks shared by every subsystem's config (valibot).
 *
 * Conventions every concern's schema follows:
 * - A default is an *input* value: valibot runs it through the schema like anything the user
 *   wrote (`v.optional(duration, '10s')`, never the milliseconds).
 * - Descriptions for the JSON Schema and the docs: `v.pipe(schema, v.description('…'))`.
 * - A check across fields is {@link refine}: it runs once every part of the value has the right
 *   type, and reports each problem at the key it is about.
 */
import * as v from 'valibot';
import { DURATION_PATTERN, durationProblem, parseDuration } from '../kernel/duration.js';
import { EVENT_CODES } from '../kernel/events.js';
import { stringProblem } from './limits.js';
import { didYouMean } from './suggest.js';

/** A problem a {@link refine} check found, at `path` below the value it checked. */
export interface Problem {
  message: string;
  path?: ReadonlyArray<string | number>;
}

/** Path items for an issue at `keys` below `input` (only the keys are read back: config/load.ts). */
function pathAt(input: unknown, keys: ReadonlyArray<string | number>): [v.IssuePathItem, ...v.IssuePathItem[]] | undefined {
  if (keys.length === 0) return undefined;
  return keys.map((key) => ({ type: 'unknown', origin: 'value', input, key, value: undefined })) as unknown as [v.IssuePathItem, ...v.IssuePathItem[]];
}

/**
 * A check across the fields of a value: `check` returns the problems it
 * finds. It runs when every part of the value has the right type (a field may still have a
 * problem of its own, reported beside these).
 */
export function refine<T>(check: (value: T) => Problem[]) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const p of check(dataset.value)) addIssue({ message: p.message, path: pathAt(dataset.value, p.path ?? []) });
  });
}

/**
 * valibot's object and record schemas take a list where a mapping is expected (a list is an
 * object to them); a config's mappings are never lists.
 */
function notAList<S extends v.GenericSchema>(schema: S): S {
  return {
    ...schema,
    '~run'(this: S, dataset: v.UnknownDataset, config: v.Config<v.BaseIssue<unknown>>) {
      if (Array.isArray(dataset.value)) {
        v._addIssue(this, 'type', dataset, config, { message: 'expected a mapping, got a list' });
        return dataset as unknown as v.OutputDataset<v.InferOutput<S>, v.BaseIssue<unknown>>;
      }
      return schema['~run'].call(this, dataset, config);
    },
  };
}

/** A mapping with exactly these keys (unknown keys are errors, with a "did you mean"). */
export function strictObject<const E extends v.ObjectEntries>(entries: E) {
  return notAList(v.strictObject(entries));
}

/** A mapping of any keys to values, each checked. */
export function record<K extends v.GenericSchema<string, string | number | symbol>, V extends v.GenericSchema>(key: K, value: V) {
  return notAList(v.record(key, value));
}

/** One of fixed words (`message`, else the list of them); a typo gets "did you mean". */
export function oneOf<const T extends readonly string[]>(options: T, message?: string) {
  return v.picklist(options, (issue) => `${message ?? `expected one of ${options.join(', ')}`}${didYouMean(issue.input, options)}`);
}

const durationMessage = (issue: v.BaseIssue<unknown>) => durationProblem(issue.input) ?? 'expected a duration';

/**
 * A duration in milliseconds; accepts "250ms", "5s", "1m", "1h30m" or a bare number of seconds,
 * up to {@link MAX_DURATION_MS} (what a timer can hold; longer would fire at once).
 */
export const duration = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(new RegExp(DURATION_PATTERN), durationMessage))], durationMessage),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const problem = durationProblem(dataset.value);
    if (problem !== undefined) {
      addIssue({ message: problem });
      return NEVER;
    }
    return parseDuration(dataset.value) as number;
  }),
  v.description('A duration: "250ms", "5s", "1m", "1h", or a bare number of seconds; at most 24d20h.'),
);

/** An integer that may arrive as a string after `${VAR}` interpolation. */
export function intLike(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return v.pipe(
    v.union([v.pipe(v.number(), v.integer(message)), v.pipe(v.string(), v.regex(/^\s*-?\d+\s*$/, message))], message),
    v.transform((x): number => (typeof x === 'number' ? x : Number(x))),
    v.number(),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

/** A boolean that may arrive as "true"/"false" after interpolation. */
export const boolLike = v.pipe(
  v.union([v.boolean(), v.picklist(['true', 'false', 'yes', 'no', '1', '0'])], 'expected true or false'),
  v.transform((x): boolean => x === true || x === 'true' || x === 'yes' || x === '1'),
);

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
export const signalName = oneOf(SIGNALS, `expected a signal name: ${SIGNALS.join(', ')}`);

export const eventCode = oneOf(EVENT_CODES, `expected an event: ${EVENT_CODES.join(', ')}`);

/** A string that can be a process argument: no NUL byte, at most MAX_ARG_STRLEN. */
const argString = v.pipe(
  v.string(),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = stringProblem(dataset.value);
    if (problem) addIssue({ message: `this ${problem}` });
  }),
);

/** A command: an argv array, or a string split with shell-word rules (no shell unless asked). */
export const command = v.union(
  [
    v.pipe(argString, v.minLength(1, 'expected a command: a string or a non-empty array of strings')),
    v.pipe(v.array(argString), v.minLength(1, 'expected a command: a string or a non-empty array of strings')),
  ],
  'expected a command: a string or a non-empty array of strings',
);

/** Environment variable names. */
export const envName = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'));

/** Environment maps accept scalars and turn them into strings; each `KEY=VALUE` must fit a process. */
export const envMap = v.pipe(
  record(envName, v.pipe(v.union([v.string(), v.number(), v.boolean()]), v.transform(String))),
  refine<Record<string, string>>((env) =>
    Object.entries(env).flatMap(([k, value]) => {
      const problem = stringProblem(`${k}=${value}`);
      return problem ? [{ message: `${k}=… ${problem}`, path: [k] }] : [];
    }),
  ),
);

export const name = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'names start with a letter or digit, then letters, digits, _ . -'));

/** A non-empty string. */
export const nonEmpty = v.pipe(v.string(), v.minLength(1, 'expected a non-empty string'));
