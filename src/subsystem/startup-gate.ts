/**
 * Holds events published before `startup` and releases them when it comes: jobs subscribe to
 * the bus only just before `startup`, so an event published during a subsystem's start (a
 * watch's first answer, a first render) would otherwise reach nobody.
 */
import { GLOBAL_SOURCE, type BusEvent, type EventBus } from '../kernel/events.js';

export class StartupGate {
  #open = false;
  #held: BusEvent[] = [];
  readonly #unsubscribe: () => void;

  constructor(private readonly bus: EventBus) {
    this.#unsubscribe = bus.subscribe(
      'startup-gate',
      () => {
        this.#open = true;
        for (const ev of this.#held.splice(0)) this.bus.publish(ev);
      },
      (ev) => ev.code === 'startup' && ev.source === GLOBAL_SOURCE,
    );
  }

  get open(): boolean {
    return this.#open;
  }

  publish(event: BusEvent): void {
    if (this.#open) this.bus.publish(event);
    else this.#held.push(event);
  }

  close(): void {
    this.#unsubscribe();
    this.#held = [];
  }
}
