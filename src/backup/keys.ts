/**
 * Where the encryption key comes from. A key source returns the master key (≥ 32 bytes); two
 * subkeys are derived from it with HKDF: one encrypts (AES-256-GCM), one names chunks (HMAC),
 * so chunk names reveal nothing about plaintext to whoever can list the bucket.
 *
 * To add a source: add its schema to `keySourceSchema` in config.ts and a factory to
 * {@link KEY_SOURCES}, keyed by the schema's single property name. A Vault key is read through
 * the SecretReader the top hands in (Capabilities.secrets).
 */
import { hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PilotfishError } from '../kernel/errors.js';
import { redactor } from '../kernel/redact.js';
import type { KeySourceConfig } from './config.js';
import type { SecretReader } from '../subsystem/capabilities.js';

export interface KeySource {
  /** A description safe for logs, e.g. "file /run/secrets/backup.key". */
  readonly describe: string;
  load(): Promise<Buffer>;
}

export interface Keys {
  enc: Buffer;
  mac: Buffer;
}

/** What a key source may need beyond its own config: Vault's secrets, for a Vault key. */
export interface KeyContext {
  secrets?: SecretReader | undefined;
}

export type KeySourceFactory = (config: Record<string, unknown>, context: KeyContext) => KeySource;

export const KEY_SOURCES: Record<string, KeySourceFactory> = {
  file: (config) => fileKey(String(config.file)),
  vault: (config, context) => vaultKey(config.vault as { secret: string; field: string }, context.secrets),
};

/** `{vault: {secret, field}}`: a field of a `vault.secrets` entry. */
export function vaultKey(ref: { secret: string; field: string }, secrets: SecretReader | undefined): KeySource {
  const where = `vault secret ${ref.secret}#${ref.field}`;
  return {
    describe: where,
    async load() {
      if (!secrets) throw new PilotfishError('PF_BACKUP_KEY', `the backup key comes from vault secret "${ref.secret}", but the config has no vault: section`);
      const value = (await secrets.read(ref.secret, { what: 'the backup key', code: 'PF_BACKUP_KEY' }))[ref.field];
      if (value === undefined) throw new PilotfishError('PF_BACKUP_KEY', `${where}: the secret has no field "${ref.field}"`);
      return decodeKey(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'), where);
    },
  };
}

export function fileKey(path: string): KeySource {
  return {
    describe: `file ${path}`,
    async load() {
      let raw: Buffer;
      try {
        raw = await readFile(path);
      } catch (cause) {
        throw new PilotfishError('PF_BACKUP_KEY', `cannot read the backup key file ${path}: ${(cause as Error).message}`, { cause });
      }
      return decodeKey(raw, `file ${path}`);
    },
  };
}

/** 32+ raw bytes, or the same as hex or base64 text (one line). */
export function decodeKey(raw: Buffer, where: string): Buffer {
  const text = raw.toString('utf8').trim();
  let key: Buffer = raw;
  if (/^[0-9a-fA-F]{64,}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/=_-]{43,}$/.test(text) && raw.length < 200) key = Buffer.from(text, 'base64');
  if (key.length < 32) {
    throw new PilotfishError('PF_BACKUP_KEY', `the backup key from ${where} is ${key.length} bytes; it needs at least 32 (e.g. openssl rand -hex 32)`);
  }
  redactor.add(text);
  redactor.add(key.toString('hex'));
  redactor.add(key.toString('base64'));
  return key;
}

export function keySource(config: KeySourceConfig, context: KeyContext = {}): KeySource {
  const [kind] = Object.keys(config);
  const make = kind ? KEY_SOURCES[kind] : undefined;
  if (!make) throw new PilotfishError('PF_BACKUP_KEY', `unknown backup key source "${kind}"`);
  return make(config, context);
}

export function deriveKeys(master: Buffer): Keys {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', master, 'pilotfish-backup-v1', info, 32));
  return { enc: derive('encrypt'), mac: derive('chunk-id') };
}
