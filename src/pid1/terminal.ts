/**
 * Giving a command the terminal, as tini does: when our stdin is our controlling terminal, the
 * command is started in a new process group of our session, and that group is made the
 * terminal's foreground (tcsetpgrp in the child, before it runs). Ctrl-C, Ctrl-Z and window
 * resizes then reach the command and not Pilotfish, and `bash -m` has job control.
 *
 * Node's spawn can only make a new session (setsid), which has no terminal at all, so this
 * child is started with posix_spawn (glibc ≥ 2.35 for the tcsetpgrp action) through koffi.
 * libuv never learns of it: the reaper reaps it and hands its wait status back (`adopt`).
 */
import { createRequire } from 'node:module';

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** Larger than glibc's posix_spawnattr_t (336 bytes), posix_spawn_file_actions_t (80) and sigset_t (128). */
const OPAQUE = 1024;

export interface TerminalSpawn {
  /** The command's pid (also its process group), or the errno code why it could not start. */
  spawn(argv: readonly string[], env: Record<string, string>, cwd: string | undefined): { pid: number } | { error: string };
}

const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 8: 'ENOEXEC', 13: 'EACCES', 20: 'ENOTDIR', 25: 'ENOTTY' };

/**
 * A spawner for the terminal's foreground, or undefined when stdin is not our controlling
 * terminal (no terminal, or a terminal of another session): then jobs start as usual.
 */
export function terminalSpawner(): TerminalSpawn | undefined {
  let libc: import('koffi').LibraryHandle;
  try {
    const require = createRequire(import.meta.url);
    libc = (require('koffi') as typeof import('koffi')).load('libc.so.6');
  } catch {
    return undefined;
  }
  const isatty = libc.func('int isatty(int fd)');
  const tcgetpgrp = libc.func('int tcgetpgrp(int fd)');
  // tcgetpgrp fails (ENOTTY) on a terminal that is not our session's controlling terminal.
  if ((isatty(0) as number) !== 1 || (tcgetpgrp(0) as number) < 0) return undefined;
  let addTcsetpgrp: ReturnType<import('koffi').LibraryHandle['func']>;
  try {
    addTcsetpgrp = libc.func('int posix_spawn_file_actions_addtcsetpgrp_np(_Inout_ uint8_t *fa, int fd)');
  } catch {
    return undefined; // glibc older than 2.35
  }
  const attrInit = libc.func('int posix_spawnattr_init(_Inout_ uint8_t *attr)');
  const attrDestroy = libc.func('int posix_spawnattr_destroy(_Inout_ uint8_t *attr)');
  const setFlags = libc.func('int posix_spawnattr_setflags(_Inout_ uint8_t *attr, short flags)');
  const setPgroup = libc.func('int posix_spawnattr_setpgroup(_Inout_ uint8_t *attr, int pgroup)');
  const setSigdefault = libc.func('int posix_spawnattr_setsigdefault(_Inout_ uint8_t *attr, const uint8_t *set)');
  const setSigmask = libc.func('int posix_spawnattr_setsigmask(_Inout_ uint8_t *attr, const uint8_t *set)');
  const sigfillset = libc.func('int sigfillset(_Inout_ uint8_t *set)');
  const sigemptyset = libc.func('int sigemptyset(_Inout_ uint8_t *set)');
  const faInit = libc.func('int posix_spawn_file_actions_init(_Inout_ uint8_t *fa)');
  const faDestroy = libc.func('int posix_spawn_file_actions_destroy(_Inout_ uint8_t *fa)');
  const addDup2 = libc.func('int posix_spawn_file_actions_adddup2(_Inout_ uint8_t *fa, int fd, int newfd)');
  const addChdir = libc.func('int posix_spawn_file_actions_addchdir_np(_Inout_ uint8_t *fa, const char *path)');
  const spawnp = libc.func('int posix_spawnp(_Out_ int *pid, const char *file, const uint8_t *fa, const uint8_t *attr, const char **argv, const char **envp)');

  return {
    spawn(argv, env, cwd) {
      const attr = Buffer.alloc(OPAQUE);
      const fa = Buffer.alloc(OPAQUE);
      const all = Buffer.alloc(OPAQUE);
      const none = Buffer.alloc(OPAQUE);
      attrInit(attr);
      faInit(fa);
      try {
        sigfillset(all);
        sigemptyset(none);
        // Every signal at its default (Node ignores SIGPIPE, and ignored signals survive exec),
        // none blocked, and a process group of its own.
        setFlags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        setPgroup(attr, 0);
        setSigdefault(attr, all);
        setSigmask(attr, none);
        // dup2 onto itself clears close-on-exec: our stdio may carry it, as libuv's spawn also undoes.
        for (const fd of [0, 1, 2]) addDup2(fa, fd, fd);
        if (cwd !== undefined) addChdir(fa, cwd);
        addTcsetpgrp(fa, 0);
        const pid = [0];
        const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`);
        const r = spawnp(pid, argv[0], fa, attr, [...argv, null], [...envp, null]) as number;
        if (r !== 0) return { error: ERRNO[r] ?? `errno ${r}` };
        return { pid: pid[0] as number };
      } finally {
        faDestroy(fa);
        attrDestroy(attr);
      }
    },
  };
}
