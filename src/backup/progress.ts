/** A one-line progress bar on a TTY (stderr); silent elsewhere. */

export interface Progress {
  addTotal(bytes: number): void;
  advance(bytes: number): void;
  done(): void;
}

export function ttyProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  let total = 0;
  let done = 0;
  const started = Date.now();
  const draw = (): void => {
    const width = 30;
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    stream.write(`\r${label} [${bar}] ${mib(done)}/${mib(total)} MiB ${(done / 1048576 / secs).toFixed(1)} MiB/s `);
  };
  const timer = setInterval(draw, 200);
  timer.unref();
  return {
    addTotal: (b) => void (total += b),
    advance: (b) => void (done += b),
    done: () => {
      clearInterval(timer);
      draw();
      stream.write('\n');
    },
  };
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}
