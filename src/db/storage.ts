/** SQLSTATE 53100 (disk_full), so the one error handler answers 507 whichever database said it. */
export class DiskFullError extends Error {
  readonly code = '53100';
}

/** The database could not write for want of room: SQLSTATE class 53 (53100 disk full), or ENOSPC on the way. */
export function isOutOfStorage(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^53[0-9A-Z]{3}$/.test(code) || code === 'ENOSPC')) return true;
  return typeof message === 'string' && /no space left on device/i.test(message);
}

/** For bookkeeping writes inside reads (last use of a token or session): a full disk must not fail the read. */
export function unlessOutOfStorage(error: unknown): void {
  if (!isOutOfStorage(error)) throw error;
}
