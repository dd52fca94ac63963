/**
 * One template's runtime: subscribe to its data, render when every value has arrived, write the
 * file only when the output changed, publish `rendered`, and run its onChange actions.
 *
 * It never hangs silently: while a value is missing or a source has not answered, it says what
 * it waits for every `logEvery`; with `missing: fail` a missing key before the first render
 * stops Pilotfish with PF_TEMPLATE_MISSING.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Liquid, Template as Parsed } from 'liquidjs';
import { errorMessage } from '../kernel/errors.js';
import type { EventCode } from '../kernel/events.js';
import type { SupervisorControl } from '../subsystem/contract.js';
import { toArgv } from '../jobs/command.js';
import { spawnProcess } from '../jobs/process.js';
import { terminate } from '../jobs/terminate.js';
import { resolveUser } from '../jobs/user.js';
import type { Logger } from '../kernel/logger.js';
import type { TemplateConfig } from './config.js';
import { parseTemplate, renderTemplate } from './engine.js';
import { parseReference, type TemplateSourceRegistry } from '../subsystem/template-sources.js';
import { readCurrent, writeFileAtomic, type WriteOptions } from '../kernel/atomic-write.js';

export interface TemplateDeps {
  engine: Liquid;
  sources: TemplateSourceRegistry;
  log: Logger;
  publish: (code: EventCode, source: string, data?: Record<string, unknown>) => void;
  control: Pick<SupervisorControl, 'signalJob' | 'restartJob'>;
  fail: (reason: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Slot {
  reference: string;
  known: boolean;
  value: unknown;
  error?: string;
}

export class Template {
  readonly #slots = new Map<string, Slot>();
  readonly #unsubscribe: Array<() => void> = [];
  #parsed: Parsed[] | undefined;
  #writeOptions: Omit<WriteOptions, 'code' | 'what'> = {};
  #renders = 0;
  #writes = 0;
  #timer: NodeJS.Timeout | undefined;
  #firstPendingAt = 0;
  #logTimer: NodeJS.Timeout | undefined;
  #busy: Promise<void> = Promise.resolve();
  #dirty = false;
  #stopped = false;
  #lastError: string | undefined;

  constructor(
    readonly config: TemplateConfig,
    private readonly deps: TemplateDeps,
  ) {
    for (const [name, reference] of Object.entries(config.data)) this.#slots.set(name, { reference, known: false, value: undefined });
  }

  get name(): string {
    return this.config.name;
  }

  /** Read and parse the template, resolve its owner. Throws on a bad template or owner. */
  async prepare(): Promise<void> {
    if (this.#parsed) return;
    const text = this.config.template ?? (await readFile(resolve(this.config.source as string), 'utf8'));
    this.#parsed = parseTemplate(this.deps.engine, text, this.name);
    if (this.config.mode !== undefined) this.#writeOptions.mode = parseInt(this.config.mode, 8);
    // A file made from Vault secrets is readable by its owner only, unless the config says otherwise.
    else if ([...this.#slots.values()].some((s) => parseReference(s.reference)?.source === 'secret')) this.#writeOptions.newFileMode = 0o600;
    if (this.config.owner !== undefined) {
      const ids = resolveUser(this.config.owner);
      this.#writeOptions.uid = ids.uid;
      this.#writeOptions.gid = ids.gid;
    }
  }

  /** Prepare (see {@link prepare}), then subscribe to the data; the file is written once it has arrived. */
  async start(): Promise<void> {
    await this.prepare();
    for (const [name, slot] of this.#slots) {
      const parsed = parseReference(slot.reference);
      if (!parsed) continue; // the schema refuses these
      this.#unsubscribe.push(
        this.deps.sources.whenRegistered(parsed.source, (source) => {
          const problem = source.check?.(parsed.ref);
          if (problem !== undefined) {
            const reason = `template ${this.name}: data ${name} (${slot.reference}): ${problem}`;
            this.deps.log.error({ template: this.name, code: 'PF_TEMPLATE_INVALID' }, reason);
            return this.deps.fail(reason);
          }
          this.#unsubscribe.push(
            source.subscribe(
              parsed.ref,
              (value) => this.#onValue(name, value),
              (error) => (slot.error = errorMessage(error)),
            ),
          );
        }),
      );
    }
    this.#logTimer = setInterval(() => this.#sayWhatIsMissing(), this.config.logEvery);
    this.#logTimer.unref();
    if (this.#slots.size === 0) this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    for (const u of this.#unsubscribe.splice(0)) u();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#logTimer) clearInterval(this.#logTimer);
  }

  status(): Record<string, unknown> {
    return {
      name: this.name,
      destination: this.config.destination,
      renders: this.#renders,
      writes: this.#writes,
      waitingFor: this.#waitingFor().map((w) => w.reference),
      lastError: this.#lastError ?? null,
    };
  }

  #onValue(name: string, value: unknown): void {
    const slot = this.#slots.get(name);
    if (!slot || this.#stopped) return;
    const firstMissing = value === undefined && (!slot.known || slot.value !== undefined);
    slot.known = true;
    slot.value = value;
    delete slot.error;
    if (firstMissing) {
      if (this.config.missing === 'fail' && this.#renders === 0) {
        const reason = `template ${this.name}: ${slot.reference} does not exist (missing: fail)`;
        this.deps.log.error({ template: this.name, code: 'PF_TEMPLATE_MISSING', missing: slot.reference }, reason);
        this.deps.fail(reason);
        return;
      }
      this.#sayWhatIsMissing();
    }
    this.#schedule();
  }

  /** Slots without a usable value: not answered yet, or missing. */
  #waitingFor(): Slot[] {
    return [...this.#slots.values()].filter((s) => !s.known || s.value === undefined);
  }

  #sayWhatIsMissing(): void {
    const waiting = this.#waitingFor();
    if (waiting.length === 0 || this.#stopped) return;
    const parts = waiting.map((s) => {
      const src = parseReference(s.reference)?.source ?? '';
      if (!this.deps.sources.get(src)) return `${s.reference} (no subsystem provides "${src}:" data; is it configured?)`;
      if (!s.known) return `${s.reference} (no answer yet${s.error ? `: ${s.error}` : ''})`;
      return `${s.reference} (missing)`;
    });
    const kept = this.#renders > 0 ? '; keeping the last rendered file' : '';
    this.deps.log.warn({ template: this.name, waitingFor: waiting.map((s) => s.reference) }, `template ${this.name} is waiting for ${parts.join(', ')}${kept}`);
  }

  #schedule(): void {
    if (this.#waitingFor().length > 0 || this.#stopped) return;
    const { min } = this.config.wait;
    if (min <= 0 || this.#renders === 0) return this.#kick();
    const now = Date.now();
    if (!this.#timer) this.#firstPendingAt = now;
    else clearTimeout(this.#timer);
    const max = Math.max(this.config.wait.max ?? min * 4, min);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#kick();
      },
      Math.max(0, Math.min(now + min, this.#firstPendingAt + max) - now),
    );
  }

  /** Render now, or once more after the render in progress. */
  #kick(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#busy = this.#busy.then(async () => {
      this.#dirty = false;
      if (this.#stopped || this.#waitingFor().length > 0) return;
      try {
        await this.#render();
        this.#lastError = undefined;
      } catch (error) {
        this.#lastError = errorMessage(error);
        this.deps.log.error({ template: this.name, err: error }, this.#lastError);
        if (this.#renders === 0) this.deps.fail(this.#lastError);
      }
    });
  }

  async #render(): Promise<void> {
    const data: Record<string, unknown> = { env: { ...this.deps.env } };
    for (const [name, slot] of this.#slots) data[name] = slot.value;
    const output = await renderTemplate(this.deps.engine, this.#parsed as Parsed[], data, this.name);
    const first = this.#renders === 0;
    this.#renders++;
    const dest = resolve(this.config.destination);
    const current = await readCurrent(dest);
    const changed = current !== output;
    if (changed) {
      const how = await writeFileAtomic(dest, output, { ...this.#writeOptions, code: 'PF_TEMPLATE_WRITE', what: 'the template file' });
      this.#writes++;
      this.deps.log.info({ template: this.name, destination: dest, how }, `template ${this.name} wrote ${dest}`);
    }
    if (first || changed) this.deps.publish('rendered', this.name, { destination: dest, changed });
    if (changed && !first) await this.#onChange();
  }

  async #onChange(): Promise<void> {
    const on = this.config.onChange;
    if (!on) return;
    if (on.exec !== undefined) await this.#runCommand(on.exec, on.shell, on.timeout);
    if (on.signal) {
      try {
        this.deps.control.signalJob(on.signal.job, on.signal.signal);
        this.deps.log.info(
          { template: this.name, job: on.signal.job, signal: on.signal.signal },
          `template ${this.name} changed: sent ${on.signal.signal} to job ${on.signal.job}`,
        );
      } catch (error) {
        this.deps.log.warn({ template: this.name, job: on.signal.job }, `template ${this.name}: cannot signal job ${on.signal.job}: ${errorMessage(error)}`);
      }
    }
    if (on.restart !== undefined) {
      this.deps.log.info({ template: this.name, job: on.restart }, `template ${this.name} changed: restarting job ${on.restart}`);
      await this.deps.control.restartJob(on.restart).catch((error: unknown) => {
        this.deps.log.warn({ template: this.name, job: on.restart }, `template ${this.name}: cannot restart job ${on.restart}: ${errorMessage(error)}`);
      });
    }
  }

  async #runCommand(exec: string | string[], shell: boolean, timeout: number): Promise<void> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.deps.env)) if (v !== undefined) env[k] = v;
    const proc = spawnProcess({ job: `${this.name}.onChange`, argv: toArgv(exec, shell), env, logging: 'wrapped', log: this.deps.log });
    const timer = setTimeout(() => void terminate(proc, 'SIGTERM', 2_000), timeout);
    const exit = await proc.exited;
    clearTimeout(timer);
    if (exit.code === 0) this.deps.log.info({ template: this.name }, `template ${this.name}: onChange command succeeded`);
    else this.deps.log.warn({ template: this.name, code: exit.code, signal: exit.signal }, `template ${this.name}: onChange command failed with ${exit.code}`);
  }
}
