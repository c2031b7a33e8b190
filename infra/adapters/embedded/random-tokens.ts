import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let next = pool.length;

/**
 * `size` random bytes as text, drawn from a pool refilled 4 KiB at a time (as Node.js draws its
 * `randomUUID`s). The embedded queue and store make a receipt handle or request id for every
 * message and object; `randomBytes` for each filled a new buffer each time, a third of a second of
 * a one-year backfill's busiest thread (docs/benchmark.md).
 */
export const randomToken = (size: number, encoding: 'hex' | 'base64'): string => {
  if (size > pool.length) throw new RangeError(`randomToken: at most ${pool.length} bytes`);
  if (next + size > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const token = pool.toString(encoding, next, next + size);
  next += size;
  return token;
};
