/**
 * PID-1 duties that start before anything else: reaping orphans, and, when we are not PID 1,
 * becoming the subreaper so orphans still come back to us.
 */
import type { Logger } from '../kernel/logger.js';
import { loadNative } from './native.js';
import { Reaper } from './reaper.js';

export interface Pid1 {
  reaper: Reaper | undefined;
  isInit: boolean;
  subreaper: boolean;
}

export function startPid1(logger: () => Logger): Pid1 {
  const log = logger();
  const isInit = process.pid === 1;
  let native;
  try {
    native = loadNative();
  } catch (error) {
    log.warn({ err: error }, 'cannot load the native helper; orphaned processes will not be reaped');
    return { reaper: undefined, isInit, subreaper: false };
  }
  let subreaper = false;
  if (!isInit) {
    subreaper = native.setSubreaper();
    if (!subreaper) log.warn('not PID 1 and could not become a child subreaper: orphans will not be reaped by Pilotfish');
  }
  const reaper = new Reaper({
    native,
    onReaped: (n) => logger().trace({ count: n }, 'reaped orphans'),
  });
  reaper.start();
  return { reaper, isInit, subreaper };
}
