/** A job's Consul service as Pilotfish registers it: id, address, port, tags, check TTL. */
import { chooseAddress } from '../jobs/address.js';
import type { JobConfig } from '../jobs/config.js';
import { instanceName, type ServiceSpec } from './register.js';

/**
 * The service of a job that has a `port`. The id is `serviceId`, else `<name>-<instance>`: the
 * hostname, with the container's short id added when the hostname is not it (instanceName).
 */
export function serviceSpec(job: JobConfig, host = instanceName(undefined, undefined, process.env)): ServiceSpec {
  const port = job.port as number;
  return {
    job: job.name,
    name: job.name,
    id: job.serviceId ?? `${job.name}-${host}`,
    address: chooseAddress(job.interfaces),
    port,
    tags: job.tags,
    meta: job.meta ?? {},
    ...(job.health ? { ttl: job.health.ttl ?? job.health.interval * 2 } : {}),
    initialStatus: job.initialStatus ?? 'critical',
    ...(job.deregisterCriticalServiceAfter !== undefined ? { deregisterCriticalServiceAfter: job.deregisterCriticalServiceAfter } : {}),
    enableTagOverride: job.enableTagOverride ?? false,
  };
}
