/** Turning a configured command into an argv: arrays as given; strings split like a shell, never run by one unless asked. */
import { parse } from 'shell-quote';
import { PilotfishError } from '../kernel/errors.js';

export function toArgv(command: string | readonly string[], shell: boolean): string[] {
  if (Array.isArray(command)) return shell ? ['/bin/sh', '-c', command.join(' ')] : [...command];
  const text = command as string;
  if (shell) return ['/bin/sh', '-c', text];
  // `$NAME` stays literal: interpolation already happened in the config, with clear errors.
  const words = parse(text, (key) => `$${key}`);
  const argv: string[] = [];
  for (const w of words) {
    if (typeof w === 'string') argv.push(w);
    else if ('pattern' in w) argv.push(w.pattern);
    else
      throw new PilotfishError(
        'PF_CONFIG_INVALID',
        `command "${text}" uses shell syntax (${'op' in w ? w.op : 'comment'}); set shell: true or write it as an array`,
      );
  }
  if (argv.length === 0) throw new PilotfishError('PF_CONFIG_INVALID', 'empty command');
  return argv;
}
