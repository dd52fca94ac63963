// The data-source interface other subsystems (Vault) plug into, exercised with a source of the
// test's own: late registration, values and changes, missing values, reference checks.
import * as valibot from 'valibot';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/kernel/events.js';
import { templateSchema } from '../../src/templates/config.js';
import { createEngine } from '../../src/templates/engine.js';
import { TemplateSourceRegistry, type TemplateSource } from '../../src/subsystem/template-sources.js';
import { Template } from '../../src/templates/template.js';
import { waitFor } from '../helpers/wait.js';

function setup(extra: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'pf-tsrc-'));
  const bus = new EventBus();
  const sources = new TemplateSourceRegistry();
  const lines: Array<{ msg: string; level: number }> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const events: string[] = [];
  const failures: string[] = [];
  const config = valibot.parse(templateSchema, { name: 't', destination: join(dir, 'out'), logEvery: '100ms', ...extra });
  const template = new Template(config, {
    engine: createEngine(),
    sources,
    log,
    publish: (code, source) => void events.push(`${code}:${source}`),
    control: { signalJob: () => {}, restartJob: async () => {} },
    fail: (reason) => void failures.push(reason),
    env: {},
  });
  const read = (): string => {
    try {
      return readFileSync(join(dir, 'out'), 'utf8');
    } catch {
      return '';
    }
  };
  return { dir, bus, sources, lines, events, failures, template, read, cleanup: () => (template.stop(), rmSync(dir, { recursive: true, force: true })) };
}

/** A source whose values the test sets. */
function manualSource() {
  const listeners = new Map<string, (v: unknown) => void>();
  const source: TemplateSource = {
    subscribe(ref, onValue) {
      listeners.set(ref, onValue);
      return () => listeners.delete(ref);
    },
    check: (ref) => (ref.includes('#') ? undefined : 'expected path#field'),
  };
  return { source, set: (ref: string, v: unknown) => listeners.get(ref)?.(v), listening: (ref: string) => listeners.has(ref) };
}

describe('template data sources', () => {
  it('waits for a source registered later, then renders and re-renders on change', async () => {
    const t = setup({ template: 'pw={{ pw }}', data: { pw: 'secret:app/db#password' } });
    try {
      await t.template.start();
      await waitFor(() => t.lines.find((l) => l.msg.includes('no subsystem provides "secret:" data')), { message: 'the waiting line' });
      const m = manualSource();
      t.sources.register('secret', m.source);
      expect(m.listening('app/db#password')).toBe(true);
      m.set('app/db#password', 'p1');
      await waitFor(() => t.read() === 'pw=p1', { message: 'the render' });
      expect(t.events).toEqual(['rendered:t']);
      m.set('app/db#password', 'p1'); // same value: nothing new
      m.set('app/db#password', 'p2');
      await waitFor(() => t.read() === 'pw=p2', { message: 'the re-render' });
      expect(t.events).toEqual(['rendered:t', 'rendered:t']);
    } finally {
      t.cleanup();
    }
  });

  it('undefined means missing: wait logs it, fail fails', async () => {
    const waiting = setup({ template: '{{ v }}', data: { v: 'secret:a#b' } });
    const failing = setup({ template: '{{ v }}', data: { v: 'secret:a#b' }, missing: 'fail' });
    try {
      for (const t of [waiting, failing]) {
        const m = manualSource();
        t.sources.register('secret', m.source);
        await t.template.start();
        m.set('a#b', undefined);
      }
      await waitFor(() => waiting.lines.find((l) => l.msg === 'template t is waiting for secret:a#b (missing)'), { message: 'waiting' });
      expect(waiting.failures).toEqual([]);
      expect(failing.failures).toEqual(['template t: secret:a#b does not exist (missing: fail)']);
    } finally {
      waiting.cleanup();
      failing.cleanup();
    }
  });

  it("a source's check() refuses a bad reference", async () => {
    const t = setup({ template: '{{ v }}', data: { v: 'secret:no-field' } });
    try {
      t.sources.register('secret', manualSource().source);
      await t.template.start();
      expect(t.failures).toEqual(['template t: data v (secret:no-field): expected path#field']);
    } finally {
      t.cleanup();
    }
  });

  it('quiescence: a burst of changes after the first render gives one write', async () => {
    const t = setup({ template: 'v={{ v }}', data: { v: 'secret:k#v' }, wait: { min: '500ms', max: '3s' } });
    try {
      const m = manualSource();
      t.sources.register('secret', m.source);
      await t.template.start();
      m.set('k#v', '0');
      await waitFor(() => t.read() === 'v=0', { message: 'the first render (not delayed)' });
      // A burst spread over ~200 ms (each step shorter than `min`): without quiescence, each value is a write.
      for (let i = 1; i <= 5; i++) {
        m.set('k#v', String(i));
        await new Promise((r) => setTimeout(r, 40));
      }
      await waitFor(() => t.read() === 'v=5', { message: 'the last value' });
      expect(t.events.length).toBe(2); // first render + one for the burst
      expect(t.template.status().writes).toBe(2);
    } finally {
      t.cleanup();
    }
  });

  it('keeps registries apart per run (each run gets its own from the top)', () => {
    const a = new TemplateSourceRegistry();
    a.register('x', manualSource().source);
    expect(new TemplateSourceRegistry().get('x')).toBeUndefined();
    expect(a.get('x')).toBeDefined();
  });
});
