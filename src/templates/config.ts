/** `templates:` — the schema beside the template runtime (engine, template, write). */
import { z } from 'zod';
import { boolLike, command, duration, name, signalName } from '../config/types.js';

const onChangeSchema = z
  .strictObject({
    exec: command.optional().meta({ description: 'Run this command after the file changed.' }),
    shell: boolLike.default(false),
    timeout: duration.default(30_000).meta({ description: 'Kill the command after this long.' }),
    signal: z
      .strictObject({ job: z.string().min(1), signal: signalName.default('SIGHUP') })
      .optional()
      .meta({ description: "Send a signal to a job's process group (it is not restarted)." }),
    restart: z.string().min(1).optional().meta({ description: 'Restart this job (its full stop sequence, then start).' }),
  })
  .refine((o) => o.exec !== undefined || o.signal !== undefined || o.restart !== undefined, {
    message: 'set at least one of exec, signal or restart',
  });

export const templateSchema = z
  .strictObject({
    name,
    source: z.string().optional().meta({ description: 'A template file (Liquid).' }),
    template: z.string().optional().meta({ description: 'The template text inline (Liquid).' }),
    destination: z.string().min(1).meta({ description: 'The file to write.' }),
    data: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'data names are letters, digits and _'),
        z.string().regex(/^[a-z][a-z0-9-]*:/, 'expected source:reference, e.g. key:app/db/host'),
      )
      .default({})
      .meta({ description: 'Variables from data sources: key:PATH, tree:PREFIX, service:NAME[?tag=T&dc=D], secret:... (Vault).' }),
    missing: z.enum(['wait', 'fail']).default('wait').meta({ description: 'A missing key: wait for it (logging what is missing), or fail the start.' }),
    logEvery: duration.default(10_000).meta({ description: 'How often a waiting template says what it waits for.' }),
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, 'expected an octal mode such as "0640"')
      .optional()
      .meta({ description: "File mode; defaults to the existing file's, else 0600 when the template uses secret: data, else 0644." }),
    owner: z.string().optional().meta({ description: 'user, uid, user:group or uid:gid.' }),
    wait: z
      .strictObject({ min: duration.default(0), max: duration.optional() })
      .default({ min: 0 })
      .meta({ description: 'Quiescence: render after changes stop for min (at most max after the first).' }),
    onChange: onChangeSchema.optional(),
  })
  .refine((t) => (t.source === undefined) !== (t.template === undefined), { message: 'set exactly one of source or template' });

export const templatesSchema = z.array(templateSchema).default([]);

export type TemplateConfig = z.output<typeof templateSchema>;
