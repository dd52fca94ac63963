/**
 * The templates subsystem: one {@link Template} per `templates:` entry. start() parses every
 * template and subscribes to its data, then returns; each file is written as soon as its data
 * has arrived, and `rendered` (source = the template's name) is published once `startup` has
 * been (so jobs can wait on it: `when: {source: app.conf, once: rendered}`).
 *
 * A reload keeps every template whose definition is unchanged (no re-render, no onChange), starts
 * the new and changed ones, and stops the removed ones. A new template that does not parse refuses
 * the reload and leaves the running set as it was.
 */
import { sameConfig } from '../kernel/same.js';
import type { Capabilities } from '../subsystem/capabilities.js';
import type { CommonConfig, PreparedReload, Subsystem, SubsystemContext } from '../subsystem/contract.js';
import { StartupGate } from '../subsystem/startup-gate.js';
import { createEngine } from './engine.js';
import { Template } from './template.js';
import type { TemplateConfig } from './config.js';

/** The sections the templates subsystem reads. */
export interface TemplatesView extends CommonConfig {
  templates: TemplateConfig[];
}

export class TemplatesSubsystem implements Subsystem {
  readonly name = 'templates';
  readonly sections = ['templates'];
  #templates: Template[] = [];
  #gate: StartupGate | undefined;
  #make: ((tc: TemplateConfig) => Template) | undefined;

  constructor(
    private readonly root: TemplatesView,
    private readonly caps: Pick<Capabilities, 'templateSources'>,
  ) {}

  async start(ctx: SubsystemContext): Promise<void> {
    const log = ctx.log.child({ component: 'templates' });
    const engine = createEngine();
    const gate = new StartupGate(ctx.bus);
    this.#gate = gate;
    this.#make = (tc) =>
      new Template(tc, {
        engine,
        sources: this.caps.templateSources,
        log,
        publish: (code, source, data) => gate.publish({ code, source, ...(data ? { data } : {}) }),
        control: ctx.control,
        fail: (reason) => ctx.requestShutdown(reason, 1),
        env: process.env,
      });
    for (const tc of this.root.templates) {
      const template = this.#make(tc);
      await template.start();
      this.#templates.push(template);
    }
  }

  async prepareReload(next: TemplatesView): Promise<PreparedReload> {
    const make = this.#make;
    if (!make) throw new Error('not started');
    const running = new Map(this.#templates.map((t) => [t.name, t]));
    const plan = next.templates.map((tc) => {
      const current = running.get(tc.name);
      return current && sameConfig(current.config, tc) ? { kept: current } : { fresh: make(tc) };
    });
    for (const p of plan) await p.fresh?.prepare(); // every new template parses, or nothing changes
    return {
      apply: async () => {
        const keep = new Set(plan.flatMap((p) => (p.kept ? [p.kept] : [])));
        for (const t of this.#templates) if (!keep.has(t)) t.stop();
        this.#templates = plan.map((p) => p.kept ?? p.fresh);
        for (const p of plan) await p.fresh?.start();
      },
      discard: () => undefined, // prepared templates hold nothing until started
    };
  }

  async stop(): Promise<void> {
    for (const t of this.#templates) t.stop();
    this.#gate?.close();
  }

  status(): unknown {
    return this.#templates.map((t) => t.status());
  }
}

export function createTemplates(config: TemplatesView, caps: Pick<Capabilities, 'templateSources'>): Subsystem {
  return new TemplatesSubsystem(config, caps);
}
