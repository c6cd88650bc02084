import { isQksError, type ErrorCode, type QksError } from '../../src/errors.js';

/** The QksError `p` rejects with (optionally of `code`); fails the test if it resolves or throws anything else. */
export async function rejectionOf(p: Promise<unknown>, code?: ErrorCode): Promise<QksError> {
  try {
    await p;
  } catch (e) {
    if (isQksError(e) && (code === undefined || e.code === code)) return e;
    throw e;
  }
  throw new Error(`expected a QksError${code ? ` ${code}` : ''}, but it succeeded`);
}
