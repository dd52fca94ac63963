/**
 * The control subsystem: serves the route table (core endpoints plus whatever other subsystems
 * add to `ctx.routes`) on the control socket.
 */
import { errorMessage } from '../kernel/errors.js';
import type { Subsystem, SubsystemContext } from '../subsystem/contract.js';
import { resolveUser } from '../jobs/user.js';
import { socketPath, type ControlConfig } from './config.js';
import { addCoreEndpoints } from './endpoints.js';
import { startControlServer, type ControlServer } from './server.js';

export class ControlSubsystem implements Subsystem {
  readonly name = 'control';
  #server: ControlServer | undefined;
  #removers: Array<() => void> = [];
  #error: string | undefined;

  constructor(private readonly config: ControlConfig) {}

  async start(ctx: SubsystemContext): Promise<void> {
    this.#removers = addCoreEndpoints(ctx.routes, ctx.control);
    const socket = socketPath(this.config.socket);
    const explicit = this.config.socket !== undefined || Boolean(process.env.PILOTFISH_SOCKET);
    try {
      const gid = this.config.group !== undefined ? resolveUser(`0:${this.config.group}`).gid : undefined;
      this.#server = await startControlServer({
        socket,
        mode: this.config.mode,
        ...(gid !== undefined ? { gid } : {}),
        routes: ctx.routes,
        log: ctx.log,
      });
    } catch (error) {
      // A socket the user asked for must work; the default one is best effort (e.g. a non-root
      // user cannot write /var/run), so Pilotfish still runs its jobs without a control plane.
      if (explicit) throw error;
      this.#error = errorMessage(error);
      ctx.log.warn({ socket }, `control plane off: ${this.#error}`);
    }
  }

  async stop(): Promise<void> {
    for (const remove of this.#removers.splice(0)) remove();
    await this.#server?.close();
    this.#server = undefined;
  }

  status(): unknown {
    return this.#server ? { socket: this.#server.socket } : { socket: null, error: this.#error ?? 'not started' };
  }
}

export function createControl(config: ControlConfig): Subsystem {
  return new ControlSubsystem(config);
}
