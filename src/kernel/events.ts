/**
 * The event bus: the only way subsystems talk to each other.
 *
 * Every subscriber owns a queue. Publishing appends to each queue and returns at once; a
 * slow or stuck subscriber only delays itself (ContainerPilot's bus blocked publishers on a
 * slow subscriber and hung; see docs/design.md). A queue that overflows drops its oldest
 * events and says so, instead of growing without bound.
 */

/** The closed set of event codes. Subsystems add theirs here, so `when:` can be validated. */
export const EVENT_CODES = [
  'startup', // Pilotfish is up; jobs without `when` start on it
  'shutdown', // Pilotfish began its stop sequence
  'started', // a job's process was spawned (each run, restarts included)
  'stopping', // a job is about to be signalled (preStop hooks react to it)
  'stopped', // a job's process group is gone (postStop hooks react to it)
  'exitSuccess', // a job's process exited 0
  'exitFailed', // a job's process exited non-zero, by a signal, or could not start
  'healthy', // a health status transition to passing
  'unhealthy', // a health status transition to failing
  'healthPassed', // every passing health check (a heartbeat, not a transition)
  'healthFailed', // every failing health check
  'changed', // a watch saw a real change
  'enterMaintenance',
  'exitMaintenance',
  'signal', // a signal reached Pilotfish; the source is its name, e.g. SIGHUP
  'timerExpired', // a `when.timeout` ran out before its event came
  'rendered', // a template was written
  'restored', // a restore finished (or found nothing to restore)
  'backedUp', // a backup snapshot completed
  'backupFailed',
  'elected', // this instance became primary
  'demoted', // this instance stopped being primary
  'reloaded', // the config was reloaded
] as const;

export type EventCode = (typeof EVENT_CODES)[number];

/** The source of events Pilotfish itself publishes. */
export const GLOBAL_SOURCE = 'pilotfish';
/** The election's events (elected, demoted): published by the election, read by backup's primaryOnly. */
export const ELECTION_SOURCE = 'election';
/** Backup's events (restored, backedUp, backupFailed). */
export const BACKUP_SOURCE = 'backup';

export interface BusEvent {
  readonly code: EventCode;
  /** A job name, a watch name, a signal name, or `pilotfish`. */
  readonly source: string;
  readonly data?: Readonly<Record<string, unknown>>;
  /**
   * Present only on events sent with {@link EventBus.request}: a subscriber passes the
   * work the publisher must wait for (a preStop hook, a Consul deregistration, ...).
   */
  readonly waitUntil?: (work: Promise<unknown>) => void;
}

export type Handler = (event: BusEvent) => void | Promise<void>;
export type Filter = (event: BusEvent) => boolean;

export interface BusOptions {
  /** Events a subscriber may have waiting before the oldest are dropped. */
  maxQueue?: number;
  /** Told about handler errors and dropped events; must not throw. */
  onProblem?: (problem: BusProblem) => void;
}

export type BusProblem =
  { kind: 'handlerError'; subscriber: string; event: BusEvent; error: unknown } | { kind: 'dropped'; subscriber: string; dropped: number };

interface Delivery {
  remaining: number;
  work: Promise<unknown>[];
  done: () => void;
}

interface Queued {
  event: BusEvent;
  delivery?: Delivery;
}

class Subscription {
  readonly queue: Queued[] = [];
  draining = false;
  dropped = 0;
  closed = false;

  constructor(
    readonly name: string,
    readonly handler: Handler,
    readonly filter: Filter | undefined,
  ) {}
}

export class EventBus {
  readonly #subs = new Set<Subscription>();
  readonly #maxQueue: number;
  readonly #onProblem: (problem: BusProblem) => void;
  readonly #counts = new Map<EventCode, number>();

  constructor(options: BusOptions = {}) {
    this.#maxQueue = options.maxQueue ?? 10_000;
    this.#onProblem = options.onProblem ?? (() => {});
  }

  /** Subscribe; returns the function that unsubscribes. */
  subscribe(name: string, handler: Handler, filter?: Filter): () => void {
    const sub = new Subscription(name, handler, filter);
    this.#subs.add(sub);
    return () => {
      sub.closed = true;
      this.#subs.delete(sub);
      for (const q of sub.queue.splice(0)) this.#ack(q.delivery);
    };
  }

  /** Publish and return at once. Never blocks, never throws. */
  publish(event: BusEvent): void {
    this.#count(event.code);
    for (const sub of this.#subs) this.#enqueue(sub, { event });
  }

  /**
   * Publish, then resolve when every subscriber has handled the event and every piece of
   * work passed to `waitUntil` has settled, or when `timeoutMs` has passed, whichever is first.
   * Resolves to false on timeout.
   */
  request(event: Omit<BusEvent, 'waitUntil'>, timeoutMs: number): Promise<boolean> {
    this.#count(event.code);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => finish(false), timeoutMs);
      timer.unref?.();
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const delivery: Delivery = {
        remaining: 1, // held by the publisher until every subscriber has been queued
        work: [],
        done: () => {
          void Promise.allSettled(delivery.work).then(() => finish(true));
        },
      };
      const full: BusEvent = { ...event, waitUntil: (work) => delivery.work.push(work) };
      for (const sub of this.#subs) {
        if (sub.filter && !sub.filter(full)) continue;
        delivery.remaining++;
        this.#enqueue(sub, { event: full, delivery }, true);
      }
      this.#ack(delivery);
    });
  }

  /** How many events of each code were published since start. */
  counts(): ReadonlyMap<EventCode, number> {
    return this.#counts;
  }

  /** Queue lengths per subscriber, for status and tests. */
  backlog(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const sub of this.#subs) out[sub.name] = (out[sub.name] ?? 0) + sub.queue.length;
    return out;
  }

  #count(code: EventCode): void {
    this.#counts.set(code, (this.#counts.get(code) ?? 0) + 1);
  }

  #enqueue(sub: Subscription, item: Queued, filtered = false): void {
    if (!filtered && sub.filter && !sub.filter(item.event)) return;
    if (sub.queue.length >= this.#maxQueue) {
      const old = sub.queue.shift();
      this.#ack(old?.delivery);
      sub.dropped++;
      if (sub.dropped === 1 || sub.dropped % 1000 === 0) {
        this.#safeProblem({ kind: 'dropped', subscriber: sub.name, dropped: sub.dropped });
      }
    }
    sub.queue.push(item);
    if (!sub.draining) {
      sub.draining = true;
      setImmediate(() => void this.#drain(sub));
    }
  }

  async #drain(sub: Subscription): Promise<void> {
    while (sub.queue.length > 0 && !sub.closed) {
      const item = sub.queue.shift() as Queued;
      try {
        await sub.handler(item.event);
      } catch (error) {
        this.#safeProblem({ kind: 'handlerError', subscriber: sub.name, event: item.event, error });
      }
      this.#ack(item.delivery);
    }
    sub.draining = false;
  }

  #ack(delivery: Delivery | undefined): void {
    if (!delivery) return;
    delivery.remaining--;
    if (delivery.remaining === 0) delivery.done();
  }

  #safeProblem(problem: BusProblem): void {
    try {
      this.#onProblem(problem);
    } catch {
      // a problem reporter must never take the bus down
    }
  }
}
