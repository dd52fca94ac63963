/** A job's Consul service as Pilotfish registers it: id, address, port, tags, check TTL. */
import { hostname } from 'node:os';
import { chooseAddress } from '../jobs/address.js';
import type { JobConfig } from '../jobs/config.js';
import type { ServiceSpec } from './register.js';

/** The service of a job that has a `port`. The id is `serviceId`, else `<name>-<hostname>`. */
export function serviceSpec(job: JobConfig, host = hostname()): ServiceSpec {
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
