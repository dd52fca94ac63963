import { expectOk, keyValues, parseControl } from '../client.js';

const USAGE = 'pilotfish putmetric NAME=VALUE... [--socket PATH]   (counters add VALUE, gauges take it)';

export async function run(argv: string[]): Promise<number> {
  const { positionals, socket } = parseControl(argv, {}, USAGE);
  await expectOk(socket, 'POST', '/v1/metric', keyValues(positionals, USAGE));
  return 0;
}
