/** `control:` — the control socket (schema beside the runtime in server.ts). */
import { z } from 'zod';
import { boolLike } from '../config/types.js';

export const DEFAULT_SOCKET = '/var/run/pilotfish.sock';

/** A file mode: "0600", "660", "0o660", or a number whose digits are octal (600). */
const mode = z
  .union([z.string().regex(/^(0o?)?[0-7]{3}$/), z.number().int().nonnegative()], {
    error: 'expected a file mode such as "0600" or "0660" (quote it: YAML reads 0600 as the number 600)',
  })
  .transform((v) => parseInt(String(v).replace(/^0o/, ''), 8))
  .refine((m) => !Number.isNaN(m) && m <= 0o777, 'expected a file mode such as "0600"')
  .meta({ description: 'Socket file mode, in octal (default "0600": owner only); "0660" with `group`.' });

export const controlSchema = z
  .strictObject({
    enabled: boolLike.default(true).meta({ description: 'Default true. Without a control plane, the CLI cannot reach this Pilotfish.' }),
    socket: z.string().min(1).optional().meta({
      description: `Socket path. Defaults to $PILOTFISH_SOCKET, then ${DEFAULT_SOCKET}. When set here, failing to listen is fatal.`,
    }),
    mode: mode.default(0o600),
    group: z
      .string()
      .optional()
      .meta({ description: 'Give this group (name or gid) the socket; combine with mode "0660".' }),
  })
  .default({ enabled: true, mode: 0o600 })
  .meta({ description: 'The control plane: HTTP/JSON over a unix socket, used by the pilotfish CLI.' });

export type ControlConfig = z.output<typeof controlSchema>;
