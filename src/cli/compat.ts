/**
 * ContainerPilot's control flags, as scripts in images call them (`containerpilot -putmetric
 * x=1` with `pilotfish` installed under that name, or called directly), mapped to the Pilotfish
 * commands that do the same through the control socket:
 *
 *   -reload                          → reload
 *   -maintenance enable|disable      → maintenance on|off
 *   -putenv K=V (repeatable; K or K= unsets) → putenv K=V ... --unset K
 *   -putmetric K=V (repeatable)      → putmetric K=V ...
 *   -ping                            → status (exit 0 when the socket answers; prints "ok")
 *   -version                         → version
 *
 * `-config FILE [APP ARGS]` (running a config) is `pilotfish run`'s business, not handled here.
 * Flags may be written `-flag value`, `-flag=value`, or with two dashes, as Go's flag package allowed.
 */
import { UsageError } from '../kernel/errors.js';

const FLAGS = new Set(['reload', 'maintenance', 'putenv', 'putmetric', 'ping', 'version']);
const TAKES_VALUE = new Set(['maintenance', 'putenv', 'putmetric']);

/** The Pilotfish argv for a ContainerPilot control invocation, or undefined when it is not one. */
export function fromContainerPilotFlags(argv: readonly string[]): string[] | undefined {
  const first = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[0] ?? '');
  if (!first || !FLAGS.has(first[1] as string) || (argv[0]?.startsWith('--') && first[1] === 'version')) return undefined;
  const seen = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[i] as string);
    if (!m || !FLAGS.has(m[1] as string)) throw new UsageError(`unexpected "${argv[i]}" after ContainerPilot's -${first[1]}; see "pilotfish help"`);
    const flag = m[1] as string;
    let value = m[2];
    if (TAKES_VALUE.has(flag) && value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`-${flag} needs a value`);
    }
    seen.set(flag, [...(seen.get(flag) ?? []), ...(value === undefined ? [] : [value])]);
  }
  if (seen.size > 1) throw new UsageError(`use one of ${[...seen.keys()].map((f) => `-${f}`).join(', ')} at a time`);
  const [flag, values] = [...seen.entries()][0] as [string, string[]];
  switch (flag) {
    case 'maintenance':
      return ['maintenance', values[values.length - 1] as string];
    case 'putenv': {
      const set = values.filter((v) => /^[^=]+=./.test(v));
      const unset = values.filter((v) => !/^[^=]+=./.test(v)).flatMap((v) => ['--unset', v.replace(/=$/, '')]);
      return ['putenv', ...set, ...unset];
    }
    case 'putmetric':
      return ['putmetric', ...values];
    case 'ping':
      return ['status', '--ping'];
    default:
      return [flag];
  }
}
