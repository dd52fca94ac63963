/**
 * The config's JSON Schema (draft-07), generated from the schema that validates configs, so the
 * two cannot drift. Its own module: only `pilotfish schema`, the docs and tests need it, and a
 * run does not load the converter.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import { configSchema } from './schema.js';

/** The parts of a valibot schema or pipe action this module reads and rewrites. */
interface Node {
  kind: string;
  type: string;
  pipe?: Node[];
  entries?: Record<string, Node>;
  wrapped?: Node;
  options?: Node[];
  item?: Node;
  key?: Node;
  value?: Node;
  metadata?: { jsonSchema?: Record<string, unknown> };
  jsonOverride?: Record<string, unknown>;
}

const flatten = (pipe: Node[]): Node[] => pipe.flatMap((item) => (item.pipe ? flatten(item.pipe) : [item]));

/**
 * The schema as the converter should see it for the input side. The converter reads a pipe only
 * up to its first transformation, which would drop a description written after one (every
 * `v.pipe(duration, v.description(…))`), and it never offers a pipe to `overrideSchema`. So each
 * pipe's descriptions move before its transformations, and a pipe that says how editors should
 * see it (`v.metadata({ jsonSchema })`) becomes a placeholder that is replaced by that.
 */
function inputView(node: Node, seen = new Map<Node, Node>()): Node {
  const done = seen.get(node);
  if (done) return done;
  const view = (n: Node): Node => inputView(n, seen);
  let out: Node;
  if (node.pipe) {
    const [first, ...rest] = flatten(node.pipe) as [Node, ...Node[]];
    const meta = rest.filter((i) => i.kind === 'metadata');
    const override = meta.find((i) => i.metadata?.jsonSchema)?.metadata?.jsonSchema;
    out = override
      ? { kind: 'schema', type: 'any', jsonOverride: override }
      : { ...node, pipe: [view(first), ...meta.filter((i) => i.type !== 'metadata'), ...rest.filter((i) => i.kind !== 'metadata')] };
  } else {
    out = { ...node };
    if (node.entries) out.entries = Object.fromEntries(Object.entries(node.entries).map(([k, s]) => [k, view(s)]));
    if (node.wrapped) out.wrapped = view(node.wrapped);
    if (node.options && (node.type === 'union' || node.type === 'variant')) out.options = node.options.map(view);
    if (node.item?.kind === 'schema') out.item = view(node.item);
    if (node.key?.kind === 'schema') out.key = view(node.key);
    if (node.value?.kind === 'schema') out.value = view(node.value);
  }
  seen.set(node, out);
  return out;
}

let cached: Record<string, unknown> | undefined;

/** The JSON Schema of the config as written by users (the input side). */
export function jsonSchema(): Record<string, unknown> {
  cached ??= toJsonSchema(inputView(configSchema as unknown as Node) as unknown as typeof configSchema, {
    target: 'draft-07',
    typeMode: 'input',
    errorMode: 'ignore',
    overrideSchema: ({ valibotSchema }) => (valibotSchema as unknown as Node).jsonOverride,
  }) as Record<string, unknown>;
  return cached;
}
