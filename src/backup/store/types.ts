/** What the repository needs from a place to keep blobs: S3 and a local directory implement it. */

export interface StoreObject {
  key: string;
  size: number;
  modified: Date;
}

export interface Versioned {
  body: Buffer;
  etag: string;
}

export interface Store {
  /** Safe for logs: "s3://bucket/prefix" or "local /path". */
  readonly describe: string;
  /** Write a whole object; readers see the old object or the new one, never a part. */
  put(key: string, body: Buffer): Promise<void>;
  /** The object, or undefined when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** `length` bytes at `offset` of an object, or undefined when it does not exist. */
  getRange(key: string, offset: number, length: number): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  /** Objects whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<StoreObject>;
  delete(key: string): Promise<void>;
  /** Create only if absent; the new etag, or undefined when the key exists. */
  putIfAbsent(key: string, body: Buffer): Promise<string | undefined>;
  /** Replace only if the current etag matches; the new etag, or undefined when it does not. */
  putIfMatch(key: string, body: Buffer, etag: string): Promise<string | undefined>;
  getVersioned(key: string): Promise<Versioned | undefined>;
  /** Make every object put so far durable (S3: already is). Called before a manifest is written. */
  flush?(): Promise<void>;
  close?(): void;
}
