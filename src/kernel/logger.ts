import pino, { type Logger, type LevelWithSilent } from 'pino';
import { redactor } from './redact.js';
import { isoTime } from './time.js';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  level?: LevelWithSilent;
  format?: LogFormat;
  /** Where lines go; defaults to stdout (fd 1), written synchronously so nothing is lost on exit. */
  fd?: number;
}

/** Text format: `time level [component] msg key=value`, for humans at a terminal. */
function toText(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, component, job, pid, ...rest } = o;
    const when = isoTime(typeof time === 'number' ? time : Date.now());
    const who = [component, job, pid].filter((v) => v !== undefined).join(' ');
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${when} ${String(level).toUpperCase().padEnd(5)} ${who ? `[${who}] ` : ''}${String(msg ?? '')}${extra ? ` ${extra}` : ''}\n`;
  } catch {
    return line;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'json';
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // The single place every line passes: secrets registered with the redactor never leave.
        streamWrite: (s) => {
          const clean = redactor.scrub(s);
          return format === 'text' ? toText(clean) : clean;
        },
      },
    },
    pino.destination({ fd: options.fd ?? 1, sync: true }),
  );
}
