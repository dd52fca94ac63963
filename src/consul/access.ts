/**
 * What the Consul concern offers the others (Capabilities.consul): session clients on the
 * configured agent, and how a job's service is registered, so the election can tie its session
 * to the service's check without knowing how registration works.
 */
import type { ConsulAccess } from '../subsystem/capabilities.js';
import type { JobConfig } from '../jobs/config.js';
import { consulDefaults, type ConsulConfig } from './config.js';
import { serviceSpec } from './service.js';
import { SessionClient } from './session.js';
import { resolveEndpoint } from './endpoint.js';

/**
 * `registers`: whether the Consul subsystem runs and so registers jobs that have a `port`
 * (it runs when the config has a consul: section or watches).
 */
export function consulAccess(config: ConsulConfig | undefined, registers: boolean): ConsulAccess {
  const section = config ?? consulDefaults();
  const address = resolveEndpoint(section).address;
  return {
    address,
    requestTimeout: section.requestTimeout,
    sessions: () => new SessionClient(section),
    serviceOf(job: JobConfig) {
      if (!registers || job.port === undefined) return undefined;
      const spec = serviceSpec(job);
      return { id: spec.id, address: spec.address, ttl: spec.ttl };
    },
  };
}
