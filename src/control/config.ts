/** `control:` — the control socket (schema beside the runtime in server.ts). */
import * as v from 'valibot';
import { boolLike, nonEmpty, strictObject } from '../config/types.js';

export const DEFAULT_SOCKET = '/var/run/pilotfish.sock';

/**
 * A file mode, read as written: "0600", "600", "0o600" (a string, or YAML's octal literal 0o600),
 * or a number. A number whose digits are all octal is read as those digits (600 and an unquoted
 * 0600, which YAML reads as the number 600, mean 0600, as with chmod); a number with an 8 or a 9
 * in it is the mode's value itself (384 is 0600, as JSON writes it). Anything else is refused:
 * never a wrong mode.
 */
export function parseMode(v: string | number): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) return undefined;
    const digits = String(v);
    const m = /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : v;
    return m <= 0o777 ? m : undefined;
  }
  const match = /^\s*(?:0o|0)?([0-7]{1,4})\s*$/.exec(v);
  if (!match) return undefined;
  const m = parseInt(match[1] as string, 8);
  return m <= 0o777 ? m : undefined;
}

const MODE_ERROR = 'expected a file mode from 0 to 0777, such as "0600" or "0660"';

const MODE_DESCRIPTION = 'Socket file mode, in octal (default "0600": owner only); "0660" with `group`. Also 0o600, or 384 (the value itself).';

const mode = v.pipe(
  v.union([v.string(), v.number()], MODE_ERROR),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const m = parseMode(dataset.value);
    if (m === undefined) {
      addIssue({ message: `${MODE_ERROR}; got ${JSON.stringify(dataset.value)}` });
      return NEVER;
    }
    return m;
  }),
  v.description(MODE_DESCRIPTION),
  v.metadata({
    jsonSchema: {
      description: MODE_DESCRIPTION, // this replaces the generated JSON Schema, so it carries the description too
      anyOf: [
        { type: 'string', pattern: '^\\s*(0o|0)?[0-7]{1,4}\\s*$' },
        { type: 'integer', minimum: 0 },
      ],
    },
  }),
);

export const controlSchema = v.optional(
  v.pipe(
    strictObject({
      enabled: v.optional(v.pipe(boolLike, v.description('Default true. Without a control plane, the CLI cannot reach this Pilotfish.')), true),
      socket: v.optional(
        v.pipe(nonEmpty, v.description(`Socket path. Defaults to $PILOTFISH_SOCKET, then ${DEFAULT_SOCKET}. When set here, failing to listen is fatal.`)),
      ),
      mode: v.optional(mode, '0600'),
      group: v.optional(v.pipe(v.string(), v.description('Give this group (name or gid) the socket; combine with mode "0660".'))),
    }),
    v.description('The control plane: HTTP/JSON over a unix socket, used by the pilotfish CLI.'),
  ),
  {},
);

export type ControlConfig = v.InferOutput<typeof controlSchema>;

/** The socket a `run` listens on and the CLI talks to: config, then $PILOTFISH_SOCKET, then the default. */
export function socketPath(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  return configured ?? (env.PILOTFISH_SOCKET || DEFAULT_SOCKET);
}
