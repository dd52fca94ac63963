/**
 * Signals held from the entry point's first instruction, before `run` has loaded and
 * `Signals` has installed its listeners. Node's inspector owns SIGUSR1 until a listener exists
 * (a USR1 then opens a debugger port and prints "Debugger listening" on the terminal); as PID 1
 * the kernel drops any signal without a listener; and a TERM to a Pilotfish that is not PID 1
 * would end it at once. Init mode (`pilotfish -- CMD`, `pilotfish run -- CMD`, with no config
 * in the environment) forwards all of them, so it holds them from the start; `Signals.install`
 * takes the held ones over and replays them in order.
 */
const HELD = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGALRM',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGPWR',
] as const;

const received: NodeJS.Signals[] = [];
const hold = (signal: NodeJS.Signals): void => {
  received.push(signal);
};
let holding = false;

/** At the entry point: hold signals if the arguments ask for init mode. Costs one listener each. */
export function holdEarly(args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const init = (args[0] === '--' || (args[0] === 'run' && args[1] === '--')) && !env.PILOTFISH_CONFIG && !env.CONTAINERPILOT;
  if (!init || holding) return;
  holding = true;
  for (const signal of HELD) process.on(signal, hold);
}

/** Called once the real listeners are installed: the signals held so far, oldest first. */
export function takeEarly(): NodeJS.Signals[] {
  if (!holding) return [];
  holding = false;
  for (const signal of HELD) process.off(signal, hold);
  return received.splice(0);
}
