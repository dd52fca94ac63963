import { describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/kernel/events.js';
import { waitFor } from '../helpers/wait.js';

const ev = (code: BusEvent['code'], source = 'app'): BusEvent => ({ code, source });

describe('EventBus', () => {
  it('delivers every event to every subscriber, in order', async () => {
    const bus = new EventBus();
    const a: string[] = [];
    const b: string[] = [];
    bus.subscribe('a', (e) => void a.push(e.code));
    bus.subscribe('b', (e) => void b.push(e.code));
    bus.publish(ev('startup'));
    bus.publish(ev('healthy'));
    await waitFor(() => a.length === 2 && b.length === 2);
    expect(a).toEqual(['startup', 'healthy']);
    expect(b).toEqual(['startup', 'healthy']);
  });

  it('never blocks publishers or other subscribers on a stuck subscriber (ContainerPilot #590)', async () => {
    const bus = new EventBus();
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let stuckSeen = 0;
    bus.subscribe('stuck', async () => {
      stuckSeen++;
      await stuck; // never returns until released
    });
    const fast: number[] = [];
    bus.subscribe('fast', (e) => void fast.push(e.data?.n as number));
    for (let n = 0; n < 5000; n++) bus.publish({ code: 'healthPassed', source: 'app', data: { n } });
    await waitFor(() => fast.length === 5000, { message: 'the fast subscriber to see every event' });
    expect(fast[4999]).toBe(4999);
    expect(stuckSeen).toBe(1);
    expect(bus.backlog().stuck).toBe(4999);
    release();
    await waitFor(() => stuckSeen === 5000, { message: 'the stuck subscriber to catch up' });
  });

  it('bounds a stuck subscriber queue and reports the drop', async () => {
    const problems: string[] = [];
    const bus = new EventBus({ maxQueue: 10, onProblem: (p) => problems.push(p.kind) });
    bus.subscribe('stuck', () => new Promise(() => {}));
    for (let n = 0; n < 100; n++) bus.publish(ev('healthPassed'));
    await waitFor(() => problems.includes('dropped'));
    expect(bus.backlog().stuck).toBeLessThanOrEqual(10);
  });

  it('filters at publish time', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe(
      'only-app',
      (e) => void seen.push(e.source),
      (e) => e.source === 'app',
    );
    bus.publish(ev('healthy', 'db'));
    bus.publish(ev('healthy', 'app'));
    await waitFor(() => seen.length === 1);
    expect(bus.backlog()['only-app']).toBe(0);
    expect(seen).toEqual(['app']);
  });

  it('request waits for handlers and their waitUntil work, and times out on a stuck one', async () => {
    const bus = new EventBus();
    const order: string[] = [];
    bus.subscribe('hook', (e) => {
      e.waitUntil?.(new Promise<void>((r) => setTimeout(() => (order.push('hook done'), r()), 50)));
    });
    const ok = await bus.request(ev('stopping'), 5000);
    order.push('request resolved');
    expect(ok).toBe(true);
    expect(order).toEqual(['hook done', 'request resolved']);

    bus.subscribe('stuck', () => new Promise(() => {}));
    const started = Date.now();
    expect(await bus.request(ev('stopped'), 100)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a throwing handler is reported and does not stop delivery', async () => {
    const problems: unknown[] = [];
    const bus = new EventBus({ onProblem: (p) => problems.push(p) });
    const seen: string[] = [];
    bus.subscribe('bad', () => {
      throw new Error('boom');
    });
    bus.subscribe('good', (e) => void seen.push(e.code));
    bus.publish(ev('startup'));
    bus.publish(ev('shutdown'));
    await waitFor(() => seen.length === 2 && problems.length === 2);
  });
});
