/**
 * Signal handling as PID 1. The kernel delivers to PID 1 only the signals it has a handler for,
 * and Node's default TERM/INT behaviour does nothing there, so every signal we care about gets
 * an explicit listener. CHLD belongs to the reaper; PIPE is ignored by Node; USR1 belongs to the
 * inspector unless the config routes it.
 */
import { FORWARDABLE, type SignalRoute, type SignalsConfig } from './config.js';

export type Forwardable = (typeof FORWARDABLE)[number];

export interface SignalHandlers {
  /** TERM or INT: begin the stop sequence. */
  onStop: (signal: 'SIGTERM' | 'SIGINT') => void;
  /** Any other routed signal. */
  onSignal: (signal: Forwardable, route: SignalRoute) => void;
}

/** Where a signal goes when the config does not say: HUP and USR2 become events only; the rest go to the main job. */
export function defaultRoute(signal: Forwardable, mainJob: string | undefined): SignalRoute {
  if (signal === 'SIGHUP' || signal === 'SIGUSR2') return { to: [], event: true };
  return { to: mainJob ? [mainJob] : [], event: true };
}

export class Signals {
  #handlers: SignalHandlers | undefined;
  #routes: SignalsConfig = {};
  #main: string | undefined;
  readonly #pending: Array<() => void> = [];
  readonly #installed = new Map<NodeJS.Signals, () => void>();

  /** Install listeners now; signals that arrive before `attach` are held and replayed. */
  install(routes: SignalsConfig = {}): void {
    this.#routes = routes;
    const listen = (signal: NodeJS.Signals, fn: () => void): void => {
      if (this.#installed.has(signal)) return;
      this.#installed.set(signal, fn);
      process.on(signal, fn);
    };
    for (const stop of ['SIGTERM', 'SIGINT'] as const) listen(stop, () => this.#dispatch(() => this.#handlers?.onStop(stop)));
    for (const signal of FORWARDABLE) {
      if (signal === 'SIGUSR1' && !('SIGUSR1' in routes)) continue;
      listen(signal, () => this.#dispatch(() => this.#handlers?.onSignal(signal, this.route(signal))));
    }
  }

  /** Update routes on reload (also installs USR1 if it is newly routed). */
  reconfigure(routes: SignalsConfig, mainJob: string | undefined): void {
    this.#main = mainJob;
    this.install(routes);
    this.#routes = routes;
  }

  attach(handlers: SignalHandlers, mainJob: string | undefined): void {
    this.#handlers = handlers;
    this.#main = mainJob;
    for (const replay of this.#pending.splice(0)) replay();
  }

  route(signal: Forwardable): SignalRoute {
    return this.#routes[signal] ?? defaultRoute(signal, this.#main);
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
