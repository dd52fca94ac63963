/**
 * Where the encryption key comes from. A key source returns the master key (≥ 32 bytes); two
 * subkeys are derived from it with HKDF: one encrypts (AES-256-GCM), one names chunks (HMAC),
 * so chunk names reveal nothing about plaintext to whoever can list the bucket.
 *
 * To add a source (e.g. Vault): add its schema to `keySourceSchema` in config.ts and a factory
 * to {@link KEY_SOURCES}, keyed by the schema's single property name.
 */
import { hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PilotfishError } from '../kernel/errors.js';
import { redactor } from '../kernel/redact.js';
import type { KeySourceConfig } from './config.js';
import type { Logger } from '../kernel/logger.js';
import type { VaultConfig } from '../vault/config.js';
import { vaultKeySource } from '../vault/keysource.js';

export interface KeySource {
  /** A description safe for logs, e.g. "file /run/secrets/backup.key". */
  readonly describe: string;
  load(): Promise<Buffer>;
}

export interface Keys {
  enc: Buffer;
  mac: Buffer;
}

/** The other config sections a key source may need (the `vault:` section for a Vault key). */
export interface KeyContext {
  vault?: VaultConfig | undefined;
  log?: Logger | undefined;
}

export type KeySourceFactory = (config: Record<string, unknown>, context: KeyContext) => KeySource;

export const KEY_SOURCES: Record<string, KeySourceFactory> = {
  file: (config) => fileKey(String(config.file)),
  vault: (config, context) => vaultKeySource(config.vault as { secret: string; field: string }, context.vault, context.log),
};

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
  return make(config as Record<string, unknown>, context);
}

export function deriveKeys(master: Buffer): Keys {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', master, 'pilotfish-backup-v1', info, 32));
  return { enc: derive('encrypt'), mac: derive('chunk-id') };
}
