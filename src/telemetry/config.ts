/** `telemetry:` — the Prometheus endpoint and user-declared metrics (runtime in index.ts). */
import * as v from 'valibot';
import { intLike, nonEmpty, oneOf, refine, strictObject, type Problem } from '../config/types.js';

const metricPart = v.pipe(v.string(), v.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'letters, digits and _ (not starting with a digit)'));

export const customMetricSchema = strictObject({
  namespace: v.optional(v.pipe(metricPart, v.description('First part of the full name; may be left out.'))),
  subsystem: v.optional(v.pipe(metricPart, v.description('Middle part of the full name; may be left out.'))),
  name: metricPart,
  help: nonEmpty,
  type: v.pipe(oneOf(['counter', 'gauge']), v.description('counter: putmetric adds the value; gauge: putmetric sets it.')),
});

const telemetryBase = strictObject({
  port: v.optional(v.pipe(intLike(1, 65535), v.description('TCP port of /metrics and /status (default 9090).')), 9090),
  address: v.optional(v.pipe(v.string(), v.description('IP address to listen on; default all (0.0.0.0).'))),
  interface: v.optional(v.pipe(v.string(), v.description('Listen on the first IPv4 address of this network interface (e.g. eth0) instead of address.'))),
  metrics: v.optional(v.pipe(v.array(customMetricSchema), v.description('Metrics fed with `pilotfish putmetric NAME=VALUE`.')), []),
});

export const telemetrySchema = v.pipe(
  telemetryBase,
  refine<v.InferOutput<typeof telemetryBase>>((t) => {
    const problems: Problem[] = [];
    if (t.address !== undefined && t.interface !== undefined) problems.push({ message: 'set address or interface, not both', path: ['interface'] });
    const seen = new Set<string>();
    t.metrics.forEach((m, i) => {
      const full = fullMetricName(m);
      if (seen.has(full)) problems.push({ message: `duplicate metric ${full}`, path: ['metrics', i, 'name'] });
      if (full.startsWith('pilotfish_')) problems.push({ message: 'the pilotfish_ prefix is reserved for built-in metrics', path: ['metrics', i, 'name'] });
      seen.add(full);
    });
    return problems;
  }),
  v.description('Prometheus metrics at http://ADDRESS:PORT/metrics, and /status.'),
);

export type TelemetryConfig = v.InferOutput<typeof telemetrySchema>;
export type CustomMetric = v.InferOutput<typeof customMetricSchema>;

/** namespace_subsystem_name, leaving out the parts that are not set (ContainerPilot #569). */
export function fullMetricName(m: { namespace?: string | undefined; subsystem?: string | undefined; name: string }): string {
  return [m.namespace, m.subsystem, m.name].filter((p) => p !== undefined && p !== '').join('_');
}
