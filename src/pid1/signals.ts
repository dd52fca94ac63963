/**
 * Signal handling as PID 1. The kernel delivers to PID 1 only the signals it has a handler for,
 * and Node's default TERM/INT behaviour does nothing there, so every signal we care about gets
 * an explicit listener. CHLD belongs to the reaper; PIPE is ignored by Node; USR1 belongs to the
 * inspector unless the config routes it (a JS listener for SIGUSR1 replaces the inspector's
 * trigger, on Node 20 to 26 alike: the signal never opens a debugger port then).
 */
import { FORWARDABLE, type SignalRoute, type SignalsConfig } from './config.js';
import { takeEarly } from './early.js';

export type Forwardable = (typeof FORWARDABLE)[number];
/** In init mode TERM and INT are routed like the others. */
export type Routable = Forwardable | 'SIGTERM' | 'SIGINT';
export type SignalRoutes = SignalsConfig & Partial<Record<'SIGTERM' | 'SIGINT', SignalRoute>>;

export interface SignalHandlers {
  /** TERM or INT: begin the stop sequence. */
  onStop: (signal: 'SIGTERM' | 'SIGINT') => void;
  /** Any other routed signal (TERM and INT too, in init mode). */
  onSignal: (signal: Routable, route: SignalRoute) => void;
}

export interface InstallOptions {
  /**
   * Init mode (tini's way): TERM and INT go where `routes` say, like any other signal, and the
   * command decides what they mean; Pilotfish stops when it exits.
   */
  forwardStop?: boolean;
}

/** Where a signal goes when the config does not say: HUP and USR2 become events only; the rest go to the main job. */
export function defaultRoute(signal: Forwardable, mainJob: string | undefined): SignalRoute {
  if (signal === 'SIGHUP' || signal === 'SIGUSR2') return { to: [], event: true };
  return { to: mainJob ? [mainJob] : [], event: true };
}

export class Signals {
  #handlers: SignalHandlers | undefined;
  #routes: SignalRoutes = {};
  #forwardStop = false;
  #main: string | undefined;
  readonly #pending: Array<() => void> = [];
  readonly #installed = new Map<NodeJS.Signals, () => void>();

  /** Install listeners now; signals that arrive before `attach` are held and replayed. */
  install(routes: SignalRoutes = {}, options: InstallOptions = {}): void {
    this.#routes = routes;
    if (options.forwardStop) this.#forwardStop = true;
    const listen = (signal: NodeJS.Signals, fn: () => void): void => {
      if (this.#installed.has(signal)) return;
      this.#installed.set(signal, fn);
      process.on(signal, fn);
    };
    for (const stop of ['SIGTERM', 'SIGINT'] as const)
      listen(stop, () => this.#dispatch(() => (this.#forwardStop ? this.#handlers?.onSignal(stop, this.route(stop)) : this.#handlers?.onStop(stop))));
    for (const signal of FORWARDABLE) {
      if (signal === 'SIGUSR1' && !('SIGUSR1' in routes)) continue;
      listen(signal, () => this.#dispatch(() => this.#handlers?.onSignal(signal, this.route(signal))));
    }
    // What the entry point held before we were loaded (pid1/early.ts): as if it came now. Our
    // listeners are in place first, so the signal never falls back to its default meanwhile.
    for (const signal of takeEarly()) this.#installed.get(signal)?.();
  }

  /** Update routes on reload (also installs USR1 if it is newly routed). */
  reconfigure(routes: SignalRoutes, mainJob: string | undefined): void {
    this.#main = mainJob;
    this.install(routes);
    this.#routes = routes;
  }

  attach(handlers: SignalHandlers, mainJob: string | undefined): void {
    this.#handlers = handlers;
    this.#main = mainJob;
    for (const replay of this.#pending.splice(0)) replay();
  }

  route(signal: Routable): SignalRoute {
    const route = this.#routes[signal];
    if (route) return route;
    if (signal === 'SIGTERM' || signal === 'SIGINT') return { to: this.#main ? [this.#main] : [], event: false };
    return defaultRoute(signal, this.#main);
  }

  uninstall(): void {
    for (const [signal, fn] of this.#installed) process.off(signal, fn);
    this.#installed.clear();
  }

  #dispatch(fn: () => void): void {
    if (this.#handlers) fn();
    else this.#pending.push(fn);
  }
}
