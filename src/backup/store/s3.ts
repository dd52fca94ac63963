/**
 * A repository in an S3 bucket (AWS, MinIO). Credentials come from the usual AWS environment
 * (AWS_ACCESS_KEY_ID, ..., or an instance role) or a provider (Vault); the endpoint from the config or
 * AWS_ENDPOINT_URL_S3. Conditional writes use If-None-Match / If-Match.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { PilotfishError } from '../../kernel/errors.js';
import type { Store, StoreObject, Versioned } from './types.js';

export interface S3StoreOptions {
  bucket: string;
  prefix?: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Sockets kept open; at least the transfer concurrency. */
  maxSockets?: number;
  /** A credentials provider (e.g. from Vault); default: the AWS environment's chain. */
  credentials?: S3ClientConfig['credentials'];
}

export class S3Store implements Store {
  readonly describe: string;
  readonly client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3StoreOptions) {
    this.#bucket = options.bucket;
    const prefix = options.prefix ?? '';
    this.#prefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3;
    this.describe = `s3://${this.#bucket}/${this.#prefix}`;
    this.client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 5,
      // Every blob carries its own hash (checked on restore) and GCM tag: skip the SDK's CRC32 on each transfer.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: { maxSockets: options.maxSockets ?? 64, keepAlive: true },
        httpsAgent: { maxSockets: options.maxSockets ?? 64, keepAlive: true },
      },
    });
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.#call(key, () => this.client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), Body: body })));
  }

  async get(key: string): Promise<Buffer | undefined> {
    return (await this.getVersioned(key))?.body;
  }

  async getVersioned(key: string): Promise<Versioned | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      return { body: await readBody(out.Body, out.ContentLength), etag: out.ETag ?? '' };
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw this.#wrap(key, error);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), Range: `bytes=${offset}-${offset + length - 1}` }));
      return await readBody(out.Body, out.ContentLength);
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw this.#wrap(key, error);
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      return true;
    } catch (error) {
      if (status(error) === 404) return false;
      throw this.#wrap(key, error);
    }
  }

  async *list(prefix: string): AsyncIterable<StoreObject> {
    let token: string | undefined;
    do {
      const out = await this.#call(prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#key(prefix), ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const o of out.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(this.#prefix.length), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    await this.#call(key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) })));
  }

  async putIfAbsent(key: string, body: Buffer): Promise<string | undefined> {
    return this.#conditional(key, body, { IfNoneMatch: '*' });
  }

  async putIfMatch(key: string, body: Buffer, etag: string): Promise<string | undefined> {
    return this.#conditional(key, body, { IfMatch: etag });
  }

  close(): void {
    this.client.destroy();
  }

  async #conditional(key: string, body: Buffer, cond: { IfNoneMatch?: string; IfMatch?: string }): Promise<string | undefined> {
    try {
      const out = await this.client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), Body: body, ...cond }));
      return out.ETag ?? '';
    } catch (error) {
      const code = status(error);
      // 412: the condition failed; 409: a concurrent conditional write won; 404: If-Match on a missing key.
      if (code === 412 || code === 409 || code === 404) return undefined;
      throw this.#wrap(key, error);
    }
  }

  async #call<T>(key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#wrap(key, error);
    }
  }

  #wrap(key: string, error: unknown): PilotfishError {
    const e = error as { name?: string; message?: string };
    return new PilotfishError('PF_BACKUP_STORE', `${this.describe}${key}: ${e.name ?? 'error'}: ${e.message ?? String(error)}`, { cause: error });
  }
}

/**
 * Read a response body into one buffer of its announced length: one copy, no concatenation.
 * Stream events, not `for await`: the async iterator costs a promise per 64 KiB piece.
 */
async function readBody(body: unknown, length: number | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const stream = body as NodeJS.ReadableStream;
  const out = length === undefined ? undefined : Buffer.allocUnsafe(length);
  const parts: Buffer[] = [];
  let at = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (part: Buffer) => {
      if (!out) {
        parts.push(part);
        return;
      }
      if (at + part.length > out.length) {
        stream.removeAllListeners('data');
        (stream as unknown as { destroy?(): void }).destroy?.();
        reject(new Error(`response longer than its Content-Length ${length}`));
        return;
      }
      out.set(part, at);
      at += part.length;
    });
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  if (!out) return Buffer.concat(parts);
  if (at !== out.length) throw new Error(`response cut short: ${at} of ${out.length} bytes`);
  return out;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}
