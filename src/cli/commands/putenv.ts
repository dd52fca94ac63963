import { expectOk, keyValues, parseControl } from '../client.js';

const USAGE = 'pilotfish putenv KEY=VALUE... [--unset KEY]... [--socket PATH]   (for processes started from now on)';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, socket } = parseControl(argv, { unset: { type: 'string', multiple: true } }, USAGE);
  const unset = values.unset ?? [];
  const body: Record<string, string | null> = unset.length > 0 && positionals.length === 0 ? {} : keyValues(positionals, USAGE);
  for (const key of unset) body[key] = null;
  await expectOk(socket, 'POST', '/v1/environ', body);
  return 0;
}
