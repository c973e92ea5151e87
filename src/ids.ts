import { v7 } from 'uuid';

/**
 * A new id for a high-volume row (tickets, stages, OPS log, mail): a UUID whose leading bits are its creation time
 * (version 7), so new rows land at the end of each primary-key index. Random ids dirtied a random page of those
 * indexes on every insert, which at a million tickets meant a full-page image in the WAL for most of them.
 */
export const newId = (): string => v7();
