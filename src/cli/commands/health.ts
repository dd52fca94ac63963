/** `pilotfish health`: for Docker's HEALTHCHECK. Exit 0 when healthy, 1 otherwise (unreachable included). */
import { errorMessage } from '../../kernel/errors.js';
import type { Health } from '../../control/endpoints.js';
import { call, parseControl } from '../client.js';

const USAGE = 'pilotfish health [--quiet] [--socket PATH]';

export async function run(argv: string[]): Promise<number> {
  const { values, socket } = parseControl(argv, { quiet: { type: 'boolean', short: 'q' } }, USAGE);
  try {
    const reply = await call<Health>(socket, 'GET', '/v1/health');
    const h = reply.body;
    if (reply.status === 200 && h.healthy) {
      if (!values.quiet) process.stdout.write('healthy\n');
      return 0;
    }
    if (!values.quiet) process.stdout.write(`unhealthy: ${(h.problems ?? [`HTTP ${reply.status}`]).join('; ')}\n`);
    return 1;
  } catch (error) {
    process.stderr.write(`unhealthy: ${errorMessage(error)}\n`);
    return 1;
  }
}
