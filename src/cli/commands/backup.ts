/** `pilotfish backup`: take a snapshot now (directly against the store; later via the control socket). */
import { ttyProgress } from '../../backup/progress.js';
import { configPath, parse } from '../args.js';
import { openBackup } from './snapshots.js';

const USAGE = 'pilotfish backup [--config FILE] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, USAGE);
  const service = await openBackup(configPath(values.config));
  try {
    const progress = values.json ? undefined : ttyProgress('backup');
    const result = await service.backupNow('manual', progress);
    progress?.done();
    const s = result.stats;
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else
      process.stdout.write(
        `snapshot ${result.snapshot}: ${s.files} files, ${s.bytes} bytes; ${s.newChunks} new chunks (${s.uploadedBytes} bytes uploaded), ${s.reusedChunks} reused; ${s.durationMs} ms\n`,
      );
    return 0;
  } finally {
    service.close();
  }
}
