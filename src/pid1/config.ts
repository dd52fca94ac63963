/** `signals:` — which signals reaching Pilotfish go to which jobs, and what they become. */
import * as v from 'valibot';
import { boolLike, oneOf, record, signalName, strictObject } from '../config/types.js';

/**
 * Signals that can be forwarded. TERM and INT start the stop sequence (in init mode they are
 * forwarded too); CHLD and PIPE never leave. TSTP is forwarded rather than left to stop Pilotfish.
 */
export const FORWARDABLE = ['SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGPWR'] as const;

const route = strictObject({
  to: v.optional(v.pipe(v.array(v.string()), v.description('Jobs that receive the signal (their whole process group). Empty: none.')), []),
  as: v.optional(v.pipe(signalName, v.description('Rewrite the signal to this one before sending it.'))),
  event: v.optional(v.pipe(boolLike, v.description('Also publish a `signal` event that jobs can wait on.')), true),
});

export const signalsSchema = v.optional(record(oneOf(FORWARDABLE, `only these signals can be routed: ${FORWARDABLE.join(', ')}`), route), {});

export type SignalRoute = v.InferOutput<typeof route>;
export type SignalsConfig = v.InferOutput<typeof signalsSchema>;
