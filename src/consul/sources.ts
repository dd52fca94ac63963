/**
 * Consul's template data sources, registered through the templates' source interface:
 *
 *   key:app/db/host            the value (a string), or missing
 *   tree:app/config            {relative key: value} under the prefix (never missing)
 *   service:web                healthy instances [{id, name, node, address, port, tags, meta}]
 *   service:web?tag=v1&dc=dc2  with a tag and/or datacenter filter
 */
import type { Logger } from '../kernel/logger.js';
import type { TemplateSource, TemplateSourceRegistry } from '../subsystem/template-sources.js';
import type { ConsulClient } from './client.js';
import { BlockingQuery, type Query } from './blocking-query.js';

export function serviceQuery(ref: string, datacenter?: string): Query {
  const [name = '', qs = ''] = ref.split('?', 2);
  const params = new URLSearchParams(qs);
  const tag = params.get('tag') ?? undefined;
  const dc = params.get('dc') ?? datacenter;
  return { kind: 'service', service: name, ...(tag ? { tag } : {}), ...(dc ? { datacenter: dc } : {}) };
}

function source(make: (ref: string) => Query, client: ConsulClient, log: Logger): TemplateSource {
  return {
    check: (ref) => (ref.trim() === '' ? 'the reference is empty' : undefined),
    subscribe(ref, onValue) {
      const query = make(ref);
      const watcher = new BlockingQuery(query, client, { blockingWait: 60_000, log, label: `template data ${query.kind}:${ref}` }, (c) => onValue(c));
      watcher.start();
      return () => watcher.stop();
    },
  };
}

export function registerConsulSources(registry: TemplateSourceRegistry, client: ConsulClient, log: Logger, datacenter?: string): void {
  const dc = datacenter ? { datacenter } : {};
  registry.register(
    'key',
    source((ref) => ({ kind: 'key', key: ref, ...dc }), client, log),
  );
  registry.register(
    'tree',
    source((ref) => ({ kind: 'prefix', prefix: ref, ...dc }), client, log),
  );
  registry.register(
    'service',
    source((ref) => serviceQuery(ref, datacenter), client, log),
  );
}
