import type { ReloadResult } from '../../subsystem/contract.js';
import { expectOk, parseControl, print } from '../client.js';

const USAGE = 'pilotfish reload [--json] [--socket PATH]';

export async function run(argv: string[]): Promise<number> {
  const { values, socket } = parseControl(argv, { json: { type: 'boolean' } }, USAGE);
  const r = await expectOk<ReloadResult>(socket, 'POST', '/v1/reload');
  print(r, values.json === true, () => {
    const parts = [
      r.restarted.length ? `restarted ${r.restarted.join(', ')}` : '',
      r.added.length ? `added ${r.added.join(', ')}` : '',
      r.removed.length ? `removed ${r.removed.join(', ')}` : '',
      r.applied.length ? `applied ${r.applied.join(', ')}` : '',
    ].filter(Boolean);
    const restart = r.needsRestart.length ? `\nnote: changes to ${r.needsRestart.join(', ')} take effect when Pilotfish restarts\n` : '';
    return `reloaded: ${parts.length ? parts.join('; ') : 'nothing changed'}\n${restart}`;
  });
  return 0;
}
