import { expectOk, parseControl, print } from '../client.js';

const USAGE = 'pilotfish stepdown [--json] [--socket PATH]   (give up the primary role)';

export async function run(argv: string[]): Promise<number> {
  const { values, socket } = parseControl(argv, { json: { type: 'boolean' } }, USAGE);
  const r = await expectOk(socket, 'POST', '/v1/stepdown');
  print(r, values.json === true, () => 'stepped down\n');
  return 0;
}
