/**
 * The redaction point: every line Pilotfish writes passes through {@link Redactor.scrub}.
 * Subsystems that learn a secret value (Vault, a key file) register it here before the value
 * can reach any log line, error message, status or metric.
 */
const MIN_SECRET_LENGTH = 4;
export const REDACTED = '[REDACTED]';

export class Redactor {
  readonly #values = new Set<string>();
  #sorted: string[] = [];

  /** Register a secret value. Short values are refused: they would mask ordinary words. */
  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.#values.has(value)) return;
    this.#values.add(value);
    // A value appears escaped inside JSON log lines, so register that form too.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.#values.add(escaped);
    // Longest first, so a secret that contains another is masked whole.
    this.#sorted = [...this.#values].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#values.size;
  }

  scrub(text: string): string {
    if (this.#sorted.length === 0) return text;
    let out = text;
    for (const v of this.#sorted) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }
}

/** The process-wide redactor: one per Pilotfish process. */
export const redactor = new Redactor();
