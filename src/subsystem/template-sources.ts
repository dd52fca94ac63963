/**
 * Template data sources: the small interface through which a subsystem feeds templates.
 *
 * A template's `data:` maps variable names to references `<source>:<ref>`, e.g.
 * `key:app/db/host`, `tree:app/config`, `service:web`, or (from the Vault subsystem)
 * `secret:secret/data/app#password`. The templates subsystem subscribes to each reference
 * and re-renders when a value changes.
 *
 * The top makes one registry per run and hands it to the subsystems (Capabilities); a
 * subsystem registers its sources in start():
 *
 *   this.caps.templateSources.register('secret', {
 *     subscribe(ref, onValue, onError) { ...; return () => stop(); },
 *   });
 *
 * `onValue(undefined)` means "answered, and it does not exist" (a missing key); a template with
 * `missing: fail` then fails, one with `missing: wait` logs that it waits. A source that cannot
 * answer yet calls `onError` (or nothing) and keeps trying; the template keeps waiting and says so.
 * A source that carries secrets registers their values with the redactor before calling onValue.
 */
export interface TemplateSource {
  /** Start delivering the value of `ref`: now (once known) and on every change. Returns the unsubscribe function. */
  subscribe(ref: string, onValue: (value: unknown) => void, onError?: (error: Error) => void): () => void;
  /** Optional: a reference is valid? Returns an error message for a bad one. */
  check?(ref: string): string | undefined;
}

type Waiter = (source: TemplateSource) => void;

export class TemplateSourceRegistry {
  readonly #sources = new Map<string, TemplateSource>();
  readonly #waiting = new Map<string, Waiter[]>();

  register(name: string, source: TemplateSource): void {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`template source name "${name}" must be lower-case letters, digits and -`);
    this.#sources.set(name, source);
    for (const w of this.#waiting.get(name) ?? []) w(source);
    this.#waiting.delete(name);
  }

  get(name: string): TemplateSource | undefined {
    return this.#sources.get(name);
  }

  names(): string[] {
    return [...this.#sources.keys()];
  }

  /** Calls `then` with the source now, or when it is registered. Returns a cancel function. */
  whenRegistered(name: string, then: Waiter): () => void {
    const now = this.#sources.get(name);
    if (now) {
      then(now);
      return () => {};
    }
    const list = this.#waiting.get(name) ?? [];
    list.push(then);
    this.#waiting.set(name, list);
    return () => {
      const rest = (this.#waiting.get(name) ?? []).filter((w) => w !== then);
      this.#waiting.set(name, rest);
    };
  }
}

/** Split `source:ref`; the source is everything before the first colon. */
export function parseReference(text: string): { source: string; ref: string } | undefined {
  const i = text.indexOf(':');
  if (i <= 0) return undefined;
  return { source: text.slice(0, i), ref: text.slice(i + 1) };
}
