/**
 * The redaction point: every line Pilotfish writes passes through {@link Redactor.scrub}.
 * Subsystems that learn a secret value (Vault, a key file) register it here before the value
 * can reach any log line, error message, status or metric.
 *
 * Only the secret is ever altered. A short secret (a password "root") is masked only where it
 * stands as a whole value, not inside a longer word ("rootfs", "/root/app" keeps its "root" only
 * when that is a separate token: `/root/` is masked, `rootfs` is not); a long one (from
 * {@link ANYWHERE_LENGTH} characters) is masked wherever it appears. A secret too short to be
 * told from ordinary text (under {@link MIN_SECRET_LENGTH} characters) is not masked at all, and
 * that is said once.
 */
export const MIN_SECRET_LENGTH = 4;
/** From this length a secret is masked wherever it appears, even inside a longer token. */
export const ANYWHERE_LENGTH = 12;
export const REDACTED = '[REDACTED]';

const WORD = /[A-Za-z0-9_]/;

export class Redactor {
  readonly #values = new Set<string>();
  readonly #unsafe = new Set<string>();
  #sorted: string[] = [];
  #warn: (message: string) => void = (message) => process.emitWarning(message, { code: 'PF_REDACT_SHORT' });

  /** Where the "too short to redact" notice goes (the logger, once there is one). */
  set onUnsafe(warn: (message: string) => void) {
    this.#warn = warn;
  }

  /** Register a secret value (`name` only says which, in the notice about a short one). */
  add(value: string, name?: string): void {
    if (value === '' || this.#values.has(value)) return;
    if (value.length < MIN_SECRET_LENGTH) {
      if (this.#unsafe.has(value)) return;
      this.#unsafe.add(value);
      this.#warn(
        `${name ? `secret ${name}` : 'a secret value'} has ${value.length} character${value.length === 1 ? '' : 's'}: too short to redact from logs without masking ordinary text (${MIN_SECRET_LENGTH} at least); it is not redacted`,
      );
      return;
    }
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

  /** Secret values too short to redact, counted (never shown). */
  get unsafe(): number {
    return this.#unsafe.size;
  }

  scrub(text: string): string {
    if (this.#sorted.length === 0) return text;
    let out = text;
    for (const v of this.#sorted) if (out.includes(v)) out = replaceWhole(out, v);
    return out;
  }
}

/** Replaces `secret` in `text` where it is a whole value (or anywhere, when it is long). */
function replaceWhole(text: string, secret: string): string {
  if (secret.length >= ANYWHERE_LENGTH) return text.split(secret).join(REDACTED);
  const leftOpen = !WORD.test(secret[0] as string);
  const rightOpen = !WORD.test(secret[secret.length - 1] as string);
  let out = '';
  let from = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
    if (at < from) continue;
    const before = text[at - 1];
    const after = text[at + secret.length];
    const whole = (leftOpen || before === undefined || !WORD.test(before)) && (rightOpen || after === undefined || !WORD.test(after));
    if (!whole) continue;
    out += text.slice(from, at) + REDACTED;
    from = at + secret.length;
  }
  return out + text.slice(from);
}

/** The process-wide redactor: one per Pilotfish process. */
export const redactor = new Redactor();
