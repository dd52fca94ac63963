/** `pilotfish restore`: restore the newest good snapshot (or a named one) into the sources. */
import { UsageError } from '../../kernel/errors.js';
import { ttyProgress } from '../../backup/progress.js';
import { configPath, parse } from '../args.js';
import { openBackup } from './snapshots.js';

const USAGE = 'pilotfish restore [--config FILE] [--snapshot NAME] [--policy always|if-empty] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { config: { type: 'string', short: 'c' }, snapshot: { type: 'string' }, policy: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const policy = values.policy ?? 'always';
  if (policy !== 'always' && policy !== 'if-empty') throw new UsageError(`--policy must be always or if-empty\nusage: ${USAGE}`);
  const service = await openBackup(configPath(values.config));
  try {
    const progress = values.json ? undefined : ttyProgress('restore');
    const result = await service.restore({ policy, ...(values.snapshot ? { snapshot: values.snapshot } : {}), ...(progress ? { progress } : {}) });
    progress?.done();
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.snapshot) process.stdout.write(`restored snapshot ${result.snapshot} (${result.reason})\n`);
    else process.stdout.write(`nothing restored: ${result.reason}\n`);
    return 0;
  } finally {
    service.close();
  }
}
