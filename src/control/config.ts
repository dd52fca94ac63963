/** `control:` — the control socket (schema beside the runtime in server.ts). */
import { z } from 'zod';
import { boolLike } from '../config/types.js';

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

const mode = z
  .union([z.string(), z.number()], { error: MODE_ERROR })
  .transform((v, ctx) => {
    const m = parseMode(v);
    if (m === undefined) {
      ctx.addIssue({ code: 'custom', message: `${MODE_ERROR}; got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return m;
  })
  .meta({
    description: 'Socket file mode, in octal (default "0600": owner only); "0660" with `group`. Also 0o600, or 384 (the value itself).',
    anyOf: [
      { type: 'string', pattern: '^\\s*(0o|0)?[0-7]{1,4}\\s*$' },
      { type: 'integer', minimum: 0 },
    ],
  } as never);

export const controlSchema = z
  .strictObject({
    enabled: boolLike.default(true).meta({ description: 'Default true. Without a control plane, the CLI cannot reach this Pilotfish.' }),
    socket: z
      .string()
      .min(1)
      .optional()
      .meta({
        description: `Socket path. Defaults to $PILOTFISH_SOCKET, then ${DEFAULT_SOCKET}. When set here, failing to listen is fatal.`,
      }),
    mode: mode.default(0o600),
    group: z.string().optional().meta({ description: 'Give this group (name or gid) the socket; combine with mode "0660".' }),
  })
  .default({ enabled: true, mode: 0o600 })
  .meta({ description: 'The control plane: HTTP/JSON over a unix socket, used by the pilotfish CLI.' });

export type ControlConfig = z.output<typeof controlSchema>;

/** The socket a `run` listens on and the CLI talks to: config, then $PILOTFISH_SOCKET, then the default. */
export function socketPath(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  return configured ?? (env.PILOTFISH_SOCKET || DEFAULT_SOCKET);
}
