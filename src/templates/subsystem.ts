/**
 * The templates subsystem: one {@link Template} per `templates:` entry. start() parses every
 * template and subscribes to its data, then returns; each file is written as soon as its data
 * has arrived, and `rendered` (source = the template's name) is published once `startup` has
 * been (so jobs can wait on it: `when: {source: app.conf, once: rendered}`).
 */
import type { Config } from '../config/schema.js';
import type { Subsystem, SubsystemContext } from '../core/subsystem.js';
import { StartupGate } from '../consul/gate.js';
import { createEngine } from './engine.js';
import { templateSources } from './sources.js';
import { Template } from './template.js';

export class TemplatesSubsystem implements Subsystem {
  readonly name = 'templates';
  readonly #templates: Template[] = [];
  #gate: StartupGate | undefined;

  constructor(private readonly root: Config) {}

  async start(ctx: SubsystemContext): Promise<void> {
    const log = ctx.log.child({ component: 'templates' });
    const engine = createEngine();
    const gate = new StartupGate(ctx.bus);
    this.#gate = gate;
    for (const tc of this.root.templates) {
      const template = new Template(tc, {
        engine,
        sources: templateSources(ctx.bus),
        log,
        publish: (code, source, data) => gate.publish({ code, source, ...(data ? { data } : {}) }),
        control: ctx.control,
        fail: (reason) => ctx.requestShutdown(reason, 1),
        env: process.env,
      });
      await template.start();
      this.#templates.push(template);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#templates) t.stop();
    this.#gate?.close();
  }

  status(): unknown {
    return this.#templates.map((t) => t.status());
  }
}

export function createTemplates(config: Config): Subsystem | undefined {
  return config.templates.length > 0 ? new TemplatesSubsystem(config) : undefined;
}
