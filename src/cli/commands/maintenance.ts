import { UsageError } from '../../kernel/errors.js';
import { expectOk, parseControl } from '../client.js';

const USAGE = 'pilotfish maintenance on|off [--socket PATH]';

export async function run(argv: string[]): Promise<number> {
  const { positionals, socket } = parseControl(argv, {}, USAGE);
  const mode = positionals[0];
  const on = mode === 'on' || mode === 'enable' ? true : mode === 'off' || mode === 'disable' ? false : undefined;
  if (on === undefined || positionals.length !== 1) throw new UsageError(`say "on" or "off"\nusage: ${USAGE}`);
  const r = await expectOk<{ maintenance: boolean }>(socket, 'POST', `/v1/maintenance/${on ? 'enable' : 'disable'}`);
  process.stdout.write(`maintenance ${r.maintenance ? 'on' : 'off'}\n`);
  return 0;
}
