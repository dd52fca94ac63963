import { UsageError } from '../../kernel/errors.js';
import { expectOk, parseControl } from '../client.js';

const USAGE = 'pilotfish job signal NAME SIGNAL | job restart NAME | job stop NAME   [--socket PATH]';

export async function run(argv: string[]): Promise<number> {
  const { positionals, socket } = parseControl(argv, {}, USAGE);
  const [action, name, signal] = positionals;
  if (!name || !['signal', 'restart', 'stop'].includes(action ?? '')) throw new UsageError(`usage: ${USAGE}`);
  if (action === 'signal' && !signal) throw new UsageError(`which signal? e.g. HUP\nusage: ${USAGE}`);
  if (action !== 'signal' && signal) throw new UsageError(`unexpected "${signal}"\nusage: ${USAGE}`);
  const path = `/v1/jobs/${encodeURIComponent(name)}/${action}`;
  await expectOk(socket, 'POST', path, action === 'signal' ? { signal } : undefined);
  process.stdout.write(`${action === 'signal' ? `signalled ${name} with ${signal}` : `${action === 'stop' ? 'stopped' : 'restarted'} ${name}`}\n`);
  return 0;
}
