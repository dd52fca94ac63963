/**
 * The store lease under a slow store (a loaded machine): a renewal that takes longer than the
 * renewal interval must not be overlapped by the next one. Overlapped, both used the same etag,
 * the second was refused, and the writer took that for a takeover and aborted its backup.
 */
import { afterAll, expect, it } from 'vitest';
import { StoreLease } from '../../src/backup/lease.js';
import { LocalStore } from '../../src/backup/store/local.js';
import { waitFor } from '../helpers/wait.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

class SlowStore extends LocalStore {
  renewals = 0;
  delayMs = 0;
  override async putIfMatch(key: string, body: Buffer, etag: string): Promise<string | undefined> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const next = await super.putIfMatch(key, body, etag);
    if (next !== undefined) this.renewals++;
    return next;
  }
}

it('a renewal slower than the renewal interval is not overlapped, and the lease is kept', async () => {
  const store = new SlowStore(tempDir());
  const lease = await new StoreLease(store, 600).tryAcquire(); // renewed every 200 ms
  expect(lease).toBeDefined();
  store.delayMs = 350; // each renewal takes nearly two intervals, well within the TTL
  await waitFor(() => store.renewals >= 4, { timeout: 10_000, message: 'four renewals' });
  expect(lease?.lost.aborted).toBe(false);
  store.delayMs = 0;
  await lease?.release();
});
