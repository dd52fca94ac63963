/**
 * One base error with a stable `code`, and a subclass per failure family.
 * Codes are part of the public interface: scripts and tests match on them.
 */
export type ErrorCode =
  | 'PF_CONFIG_READ'
  | 'PF_CONFIG_PARSE'
  | 'PF_CONFIG_INVALID'
  | 'PF_CLI_USAGE'
  | 'PF_CLI_UNKNOWN_COMMAND'
  | 'PF_JOB_SPAWN'
  | 'PF_JOB_NOT_FOUND'
  | 'PF_JOB_TIMEOUT'
  | 'PF_NATIVE_UNAVAILABLE'
  | 'PF_USER_UNKNOWN'
  | 'PF_CONTROL_SOCKET'
  | 'PF_CONTROL_UNREACHABLE'
  | 'PF_CONTROL_DENIED'
  | 'PF_CONTROL_REFUSED'
  | 'PF_CONTROL_FAILED'
  | 'PF_JOB_NOT_RUNNING'
  | 'PF_TELEMETRY_LISTEN'
  | 'PF_MIGRATE_INPUT'
  | 'PF_BACKUP_KEY'
  | 'PF_BACKUP_CORRUPT'
  | 'PF_BACKUP_STORE'
  | 'PF_BACKUP_NOTHING_TO_RESTORE'
  | 'PF_BACKUP_NO_SPACE'
  | 'PF_BACKUP_HOOK'
  | 'PF_BACKUP_SOURCE'
  | 'PF_BACKUP_BUSY'
  | 'PF_BACKUP_RESTORE'
  | 'PF_BACKUP_CODEC'
  | 'PF_CONSUL_CONFIG'
  | 'PF_CONSUL_UNAVAILABLE'
  | 'PF_CONSUL_ADDRESS'
  | 'PF_TEMPLATE_INVALID'
  | 'PF_TEMPLATE_RENDER'
  | 'PF_TEMPLATE_WRITE'
  | 'PF_TEMPLATE_MISSING'
  | 'PF_VAULT_CONFIG'
  | 'PF_VAULT_AUTH'
  | 'PF_VAULT_DENIED'
  | 'PF_VAULT_NOT_FOUND'
  | 'PF_VAULT_UNAVAILABLE'
  | 'PF_VAULT_REQUEST'
  | 'PF_VAULT_SECRET'
  | 'PF_VAULT_FILE'
  | 'PF_ELECTION_CONFIG'
  | 'PF_ELECTION_NOT_PRIMARY'
  | 'PF_CONTROL_NOT_FOUND'
  | 'PF_CONTROL_BAD_REQUEST'
  | 'PF_CONTROL_CONFLICT'
  | 'PF_CONTROL_NOT_CONFIGURED'
  | 'PF_CONTROL_METHOD'
  | 'PF_CONTROL_TOO_LARGE'
  | 'PF_CONSUL_CALL'
  | 'PF_INTERNAL';

export class PilotfishError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PilotfishError';
  }
}

export class UsageError extends PilotfishError {
  constructor(message: string, code: 'PF_CLI_USAGE' | 'PF_CLI_UNKNOWN_COMMAND' = 'PF_CLI_USAGE') {
    super(code, message);
    this.name = 'UsageError';
  }
}

/** Narrow an unknown thrown value to something with a message, without losing it. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
