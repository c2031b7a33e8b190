import { hostname } from 'node:os';

/** This machine's name, as lock files record it. */
export const thisHost = (): string => hostname();

/**
 * Whether a process recorded in a lock is still alive: `true`/`false` when it ran on this host,
 * `undefined` when it ran elsewhere and this machine cannot tell (then only a TTL can free it).
 * Signal 0 checks existence without signalling; EPERM means it exists but belongs to someone else.
 */
export const processIsAlive = (holder: { pid?: number; host?: string }): boolean | undefined => {
  if (holder.pid === undefined || holder.host === undefined || holder.host !== thisHost()) return undefined;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
