/** `telemetry:` — the Prometheus endpoint and user-declared metrics (runtime in index.ts). */
import { z } from 'zod';
import { intLike } from '../config/types.js';

const metricPart = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'letters, digits and _ (not starting with a digit)');

export const customMetricSchema = z.strictObject({
  namespace: metricPart.optional().meta({ description: 'First part of the full name; may be left out.' }),
  subsystem: metricPart.optional().meta({ description: 'Middle part of the full name; may be left out.' }),
  name: metricPart,
  help: z.string().min(1),
  type: z.enum(['counter', 'gauge']).meta({ description: 'counter: putmetric adds the value; gauge: putmetric sets it.' }),
});

export const telemetrySchema = z
  .strictObject({
    port: intLike(1, 65535).default(9090).meta({ description: 'TCP port of /metrics and /status (default 9090).' }),
    address: z.string().optional().meta({ description: 'IP address to listen on; default all (0.0.0.0).' }),
    interface: z.string().optional().meta({ description: 'Listen on the first IPv4 address of this network interface (e.g. eth0) instead of address.' }),
    metrics: z.array(customMetricSchema).default([]).meta({ description: 'Metrics fed with `pilotfish putmetric NAME=VALUE`.' }),
  })
  .superRefine((t, ctx) => {
    if (t.address !== undefined && t.interface !== undefined)
      ctx.addIssue({ code: 'custom', message: 'set address or interface, not both', path: ['interface'] });
    const seen = new Set<string>();
    t.metrics.forEach((m, i) => {
      const full = fullMetricName(m);
      if (seen.has(full)) ctx.addIssue({ code: 'custom', message: `duplicate metric ${full}`, path: ['metrics', i, 'name'] });
      if (full.startsWith('pilotfish_'))
        ctx.addIssue({ code: 'custom', message: 'the pilotfish_ prefix is reserved for built-in metrics', path: ['metrics', i, 'name'] });
      seen.add(full);
    });
  })
  .meta({ description: 'Prometheus metrics at http://ADDRESS:PORT/metrics, and /status.' });

export type TelemetryConfig = z.output<typeof telemetrySchema>;
export type CustomMetric = z.output<typeof customMetricSchema>;

/** namespace_subsystem_name, leaving out the parts that are not set (ContainerPilot #569). */
export function fullMetricName(m: { namespace?: string | undefined; subsystem?: string | undefined; name: string }): string {
  return [m.namespace, m.subsystem, m.name].filter((p) => p !== undefined && p !== '').join('_');
}
