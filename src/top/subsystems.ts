/**
 * The subsystems a config asks for, in start order, each loaded only when its section is there
 * (one dynamic import per subsystem: a run without `backup:` never loads the S3 client). This is
 * the one place that knows every concern; it hands each the capabilities it needs from the
 * others (src/subsystem/capabilities.ts).
 *
 * Order: control and telemetry first (telemetry's metrics sink is handed to the others); Vault
 * before backup (its key may come from Vault) and templates (secret: data); Consul before
 * election (the session attaches to the service's check) and templates (key:, tree:, service:
 * data).
 */
import type { Capabilities, ConsulAccess, SecretReader } from '../subsystem/capabilities.js';
import type { Subsystem } from '../subsystem/contract.js';
import { NO_METRICS, type Metrics } from '../subsystem/metrics.js';
import { TemplateSourceRegistry } from '../subsystem/template-sources.js';
import type { Config } from './schema.js';

/** Template data that comes from Consul (`key:`, `tree:`, `service:`) or from Vault (`secret:`). */
const templateData = (config: Config, pattern: RegExp): boolean => config.templates.some((t) => Object.values(t.data).some((ref) => pattern.test(ref)));

/** Which subsystems the config asks for: a pure function of the config, so tests can check it. */
export function wanted(config: Config): Record<'control' | 'telemetry' | 'vault' | 'consul' | 'backup' | 'election' | 'templates', boolean> {
  return {
    control: config.control.enabled,
    telemetry: config.telemetry !== undefined,
    vault: config.vault !== undefined || config.jobs.some((j) => j.secrets && Object.keys(j.secrets).length > 0) || templateData(config, /^secret:/),
    // The Consul subsystem registers services and runs watches; it runs with a consul: section, watches, or Consul template data.
    consul: config.consul !== undefined || config.watches.length > 0 || templateData(config, /^(key|tree|service):/),
    backup: config.backup !== undefined,
    election: config.election !== undefined,
    templates: config.templates.length > 0,
  };
}

/** Build the subsystems the config asks for, loading each one's code only then. */
export async function loadSubsystems(config: Config): Promise<Subsystem[]> {
  const want = wanted(config);
  const out: Subsystem[] = [];
  let metrics: Metrics = NO_METRICS;
  const templateSources = new TemplateSourceRegistry();

  if (want.control) out.push((await import('../control/subsystem.js')).createControl(config.control));
  if (want.telemetry && config.telemetry) {
    const telemetry = (await import('../telemetry/subsystem.js')).createTelemetry(config.telemetry);
    metrics = telemetry.metrics;
    out.push(telemetry);
  }
  let secrets: SecretReader | undefined;
  if (want.vault) {
    const vault = (await import('../vault/subsystem.js')).createVault(config, { templateSources, metrics });
    secrets = vault.reader;
    out.push(vault);
  }
  // Sessions and locks (election, the backup writer lock) need Consul's address even without a consul: section.
  const needsConsul = want.consul || want.election || (config.backup !== undefined && config.backup.lease.backend !== 'store' && config.consul !== undefined);
  const consul: ConsulAccess | undefined = needsConsul ? (await import('../consul/access.js')).consulAccess(config.consul, want.consul) : undefined;
  const caps: Capabilities = { metrics, templateSources, consul: config.consul ? consul : undefined, secrets };

  if (config.backup) out.push((await import('../backup/subsystem.js')).createBackup({ ...config, backup: config.backup }, caps));
  if (want.consul) out.push((await import('../consul/subsystem.js')).createConsul(config, caps));
  if (config.election && consul) out.push((await import('../election/subsystem.js')).createElection({ ...config, election: config.election }, { consul }));
  if (want.templates) out.push((await import('../templates/subsystem.js')).createTemplates(config, caps));
  return out;
}
