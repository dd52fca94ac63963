// docker-compose v2 against podman's Docker-compatible socket, as users run the demos: one
// project per test (a unique name), the example's own compose file plus a small override that
// only drops the published host ports (parallel runs and other servers on this host would
// collide on them). `down -v` at the end removes what the project made.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { composeEnv, inspect, logs as podmanLogs, uniqueName } from './podman.js';

const exec = promisify(execFile);

export class ComposeProject {
  readonly name: string;
  readonly dir: string;
  readonly #files: string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #tmp: string;

  /** `noPorts`: services whose published ports the override drops. */
  constructor(example: string, noPorts: string[], env: NodeJS.ProcessEnv = {}) {
    this.name = uniqueName(`pf-${example}`).toLowerCase();
    this.dir = join(ROOT, 'examples', example);
    this.#tmp = mkdtempSync(join(tmpdir(), 'pf-compose-'));
    const override = join(this.#tmp, 'override.yml');
    writeFileSync(override, `services:\n${noPorts.map((s) => `  ${s}:\n    ports: !reset []\n`).join('')}`);
    this.#files = [join(this.dir, 'docker-compose.yml'), override];
    this.#env = { ...composeEnv(), ...env };
  }

  async run(args: string[], timeout = 600_000): Promise<{ stdout: string; stderr: string }> {
    const argv = ['-p', this.name, ...this.#files.flatMap((f) => ['-f', f]), ...args];
    try {
      return await exec('docker-compose', argv, { cwd: this.dir, env: this.#env, timeout, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`docker-compose ${args.join(' ')}: ${e.message}\n${(e.stderr ?? '').split('\n').slice(-30).join('\n')}`, { cause: error });
    }
  }

  /**
   * `up -d --wait` of long-running services, without their dependencies (`--no-deps`): compose's
   * `--wait` counts a one-shot dependency that exited (a seed, even with code 0) as a failure, so
   * the demos come up in stages: servers, then one-shots (`once`), then the apps.
   */
  async up(services: string[], timeoutS = 600): Promise<void> {
    await this.run(['up', '-d', '--no-deps', '--wait', '--wait-timeout', String(timeoutS), ...services], (timeoutS + 60) * 1000);
  }

  /** `up -d` of one-shot services, then each must exit 0. */
  async once(services: string[], timeoutMs = 300_000): Promise<void> {
    await this.run(['up', '-d', '--no-deps', ...services]);
    for (const service of services) {
      const id = await this.id(service);
      const state = await waitFor(
        async () => {
          const [status, code] = (await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')).split(' ');
          return status === 'exited' ? code : undefined;
        },
        { timeout: timeoutMs, interval: 250, message: `${service} to finish` },
      );
      if (state !== '0') throw new Error(`${service} exited with ${state}:\n${await this.logs(service)}`);
    }
  }

  /** The id of the container of `service` (number `index`, from 1). */
  async id(service: string, index = 1): Promise<string> {
    const { stdout } = await this.run(['ps', '-a', '-q', '--no-trunc', service]);
    const ids = stdout.trim().split('\n').filter(Boolean);
    const { stdout: names } = await exec('podman', ['inspect', '--format', '{{.Name}} {{.Id}}', ...ids]);
    const want = `${this.name}-${service}-${index}`;
    const line = names.split('\n').find((l) => l.split(' ')[0]?.replace(/^\//, '') === want);
    if (!line) throw new Error(`no container ${want} (have: ${names.trim()})`);
    return line.split(' ')[1] as string;
  }

  /** The container's output (podman's own: compose's `logs` over podman 4.3's API misses exited containers'). */
  async logs(service: string, index = 1): Promise<string> {
    return podmanLogs(await this.id(service, index));
  }

  async down(): Promise<void> {
    await this.run(['down', '-v', '--remove-orphans', '-t', '0']).catch((error: Error) => console.warn(error.message));
    rmSync(this.#tmp, { recursive: true, force: true });
  }
}
