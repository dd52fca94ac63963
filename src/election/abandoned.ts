/**
 * Sessions the elector is done with (after any demotion) but could not end because Consul did
 * not answer: they may still hold the key, and Consul keeps a session up to 2×TTL. Each is
 * released (a release never waits for the lock-delay, and is a no-op when it does not hold the
 * key), then destroyed, as soon as Consul answers, so a key one of them holds is free at once.
 */
import { errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { sessionGone, type ConsulSessions } from '../subsystem/capabilities.js';

export class AbandonedSessions {
  readonly #ids = new Set<string>();

  constructor(
    private readonly consul: ConsulSessions,
    private readonly key: string,
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.#ids.size;
  }

  /** Release the key with the session and destroy it; remembered for {@link retry} when Consul does not answer. */
  async end(session: string, timeout = this.timeoutMs): Promise<void> {
    try {
      await this.consul.release(this.key, session, timeout);
      await this.consul.destroySession(session, timeout);
      if (this.#ids.delete(session)) this.log.info({ session }, 'released and destroyed an abandoned election session');
    } catch (error) {
      if (sessionGone(error)) {
        this.#ids.delete(session);
        return;
      }
      if (!this.#ids.has(session)) this.log.debug({ err: errorMessage(error), session }, 'could not end the election session; will retry');
      this.#ids.add(session);
    }
  }

  /** Try every remembered session again. */
  async retry(): Promise<void> {
    for (const id of [...this.#ids]) await this.end(id);
  }
}
