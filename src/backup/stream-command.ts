/**
 * Command-stream sources: back up a command's stdout (a consistent database dump, e.g.
 * `mariadb-backup --backup --stream=xbstream`) and restore by piping it into another
 * (`mbstream -x`). Both run as their own process group, killed on timeout or abort.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PilotfishError } from '../kernel/errors.js';
import { toArgv } from '../jobs/command.js';
import type { StreamSource } from './config.js';

const STDERR_TAIL = 2048;

interface Running {
  stdout: Readable;
  stdin: Writable;
  done: Promise<void>;
  kill(): void;
}

function start(source: StreamSource, which: 'command' | 'restore', signal?: AbortSignal): Running {
  const argv = toArgv(source[which], source.shell);
  const [file, ...args] = argv as [string, ...string[]];
  const child = spawn(file, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (tail = (tail + s).slice(-STDERR_TAIL)));
  const kill = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(kill, source.timeout);
  timer.unref();
  signal?.addEventListener('abort', kill, { once: true });
  const what = `${which === 'command' ? 'backup' : 'restore'} command of stream source "${source.name}"`;
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (cause) => reject(new PilotfishError('PF_BACKUP_SOURCE', `cannot run the ${what}: ${cause.message}`, { cause })));
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      if (code === 0) return resolve();
      const how = sig ? `was killed by ${sig}` : `exited with ${code}`;
      reject(new PilotfishError('PF_BACKUP_SOURCE', `the ${what} ${how}${tail ? `: ${tail.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    });
  });
  child.stdin.on('error', () => undefined); // EPIPE surfaces as the exit status
  return { stdout: child.stdout, stdin: child.stdin, done, kill };
}

/** Run the backup command, hand its stdout to `consume`, and fail unless it exits 0. */
export async function runStreamSource<T>(source: StreamSource, consume: (stdout: Readable) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const proc = start(source, 'command', signal);
  proc.stdin.end();
  try {
    const [out] = await Promise.all([consume(proc.stdout), proc.done]);
    return out;
  } catch (error) {
    proc.kill();
    await proc.done.catch(() => undefined);
    throw error;
  }
}

/** Run the restore command and feed it `chunks` in order. */
export async function restoreStreamSource(source: StreamSource, chunks: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<void> {
  const proc = start(source, 'restore', signal);
  proc.stdout.resume();
  const feed = async (): Promise<void> => {
    for await (const chunk of chunks) {
      if (!proc.stdin.write(chunk)) {
        await new Promise<void>((resolve) => {
          proc.stdin.once('drain', resolve);
          proc.stdin.once('close', resolve);
        });
      }
    }
    proc.stdin.end();
  };
  try {
    await Promise.all([feed(), proc.done]);
  } catch (error) {
    proc.kill();
    await proc.done.catch(() => undefined);
    throw error;
  }
}
