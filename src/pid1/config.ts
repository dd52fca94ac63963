/** `signals:` — which signals reaching Pilotfish go to which jobs, and what they become. */
import { z } from 'zod';
import { boolLike, signalName } from '../config/types.js';

/**
 * Signals that can be forwarded. TERM and INT start the stop sequence (in init mode they are
 * forwarded too); CHLD and PIPE never leave. TSTP is forwarded rather than left to stop Pilotfish.
 */
export const FORWARDABLE = ['SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGPWR'] as const;

const route = z.strictObject({
  to: z.array(z.string()).default([]).meta({ description: 'Jobs that receive the signal (their whole process group). Empty: none.' }),
  as: signalName.optional().meta({ description: 'Rewrite the signal to this one before sending it.' }),
  event: boolLike.default(true).meta({ description: 'Also publish a `signal` event that jobs can wait on.' }),
});

export const signalsSchema = z.partialRecord(z.enum(FORWARDABLE, { error: `only these signals can be routed: ${FORWARDABLE.join(', ')}` }), route).default({});

export type SignalRoute = z.output<typeof route>;
export type SignalsConfig = z.output<typeof signalsSchema>;
