/** `templates:` — the schema beside the template runtime (engine, template, write). */
import * as v from 'valibot';
import { boolLike, command, duration, name, nonEmpty, oneOf, record, refine, signalName, strictObject } from '../config/types.js';

const onChangeBase = strictObject({
  exec: v.optional(v.pipe(command, v.description('Run this command after the file changed.'))),
  shell: v.optional(boolLike, false),
  timeout: v.optional(v.pipe(duration, v.description('Kill the command after this long.')), '30s'),
  signal: v.optional(
    v.pipe(
      strictObject({ job: nonEmpty, signal: v.optional(signalName, 'SIGHUP') }),
      v.description("Send a signal to a job's process group (it is not restarted)."),
    ),
  ),
  restart: v.optional(v.pipe(nonEmpty, v.description('Restart this job (its full stop sequence, then start).'))),
});

const onChangeSchema = v.pipe(
  onChangeBase,
  refine<v.InferOutput<typeof onChangeBase>>((o) =>
    o.exec !== undefined || o.signal !== undefined || o.restart !== undefined ? [] : [{ message: 'set at least one of exec, signal or restart' }],
  ),
);

const templateBase = strictObject({
  name,
  source: v.optional(v.pipe(v.string(), v.description('A template file (Liquid).'))),
  template: v.optional(v.pipe(v.string(), v.description('The template text inline (Liquid).'))),
  destination: v.pipe(nonEmpty, v.description('The file to write.')),
  data: v.optional(
    v.pipe(
      record(
        v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'data names are letters, digits and _')),
        v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]*:/, 'expected source:reference, e.g. key:app/db/host')),
      ),
      v.description('Variables from data sources: key:PATH, tree:PREFIX, service:NAME[?tag=T&dc=D], secret:... (Vault).'),
    ),
    {},
  ),
  missing: v.optional(v.pipe(oneOf(['wait', 'fail']), v.description('A missing key: wait for it (logging what is missing), or fail the start.')), 'wait'),
  logEvery: v.optional(v.pipe(duration, v.description('How often a waiting template says what it waits for.')), '10s'),
  mode: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^0?[0-7]{3,4}$/, 'expected an octal mode such as "0640"'),
      v.description("File mode; defaults to the existing file's, else 0600 when the template uses secret: data, else 0644."),
    ),
  ),
  owner: v.optional(v.pipe(v.string(), v.description('user, uid, user:group or uid:gid.'))),
  wait: v.optional(
    v.pipe(
      strictObject({ min: v.optional(duration, '0s'), max: v.optional(duration) }),
      v.description('Quiescence: render after changes stop for min (at most max after the first).'),
    ),
    {},
  ),
  onChange: v.optional(onChangeSchema),
});

export const templateSchema = v.pipe(
  templateBase,
  refine<v.InferOutput<typeof templateBase>>((t) =>
    (t.source === undefined) !== (t.template === undefined) ? [] : [{ message: 'set exactly one of source or template' }],
  ),
);

export const templatesSchema = v.optional(v.array(templateSchema), []);

export type TemplateConfig = v.InferOutput<typeof templateSchema>;
