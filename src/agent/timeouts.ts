/**
 * The agent client's default bounds: rows of the one timeouts table (src/timeouts.ts), kept under
 * their old names for library callers.
 */
import { TIMEOUTS } from '../timeouts.js';

export const DEFAULT_TIMEOUTS = TIMEOUTS.agent;

/** guest-exec-status polling: start fast (cat ends in a few ms), double, stop growing here. */
export const EXEC_POLL = TIMEOUTS.execPoll;
