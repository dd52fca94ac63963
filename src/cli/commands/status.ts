/** `pilotfish status`: a table on a terminal, JSON with --json or when piped. */
import type { SupervisorStatus } from '../../subsystem/contract.js';
import { expectOk, parseControl, print } from '../client.js';

const USAGE = 'pilotfish status [--json | --ping] [--socket PATH]   (--ping: print ok when Pilotfish answers, as ContainerPilot\'s -ping)';

function ago(iso: string | undefined): string {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export function render(s: SupervisorStatus): string {
  const head = [
    `pilotfish pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)}s${s.stopping ? ', STOPPING' : ''}${s.maintenance ? ', MAINTENANCE' : ''}`,
    `reloads ${s.reloads}${s.environ.length ? `, putenv: ${s.environ.join(' ')}` : ''}`,
  ];
  const rows = [['JOB', 'STATE', 'PID', 'HEALTH', 'RUNS', 'RESTARTS', 'LAST EXIT']];
  for (const j of s.jobs) {
    const exit = j.lastExit ? `${j.lastExit.signal ?? j.lastExit.code} ${ago(j.lastExit.at)}` : '';
    rows.push([`${j.name}${j.main ? '*' : ''}`, j.state, j.pid === null ? '-' : String(j.pid), j.health ?? '-', String(j.runs), String(j.restarts), exit]);
  }
  const subs = Object.entries(s.subsystems).map(([name, v]) => `  ${name}: ${JSON.stringify(v)}`);
  return `${head.join('\n')}\n\n${table(rows)}\n${subs.length ? `\nsubsystems:\n${subs.join('\n')}\n` : ''}(* main job)\n`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, socket } = parseControl(argv, { json: { type: 'boolean' }, ping: { type: 'boolean' } }, USAGE);
  const status = await expectOk<SupervisorStatus>(socket, 'GET', '/v1/status');
  if (values.ping) {
    process.stdout.write('ok\n');
    return 0;
  }
  print(status, values.json === true, () => render(status));
  return 0;
}
