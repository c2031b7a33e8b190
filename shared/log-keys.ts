import { AsyncLocalStorage } from 'node:async_hooks';
import { logger } from './logger.js';

/** Keys a log line carries: the ids of the work it is about. */
export type LogKeys = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The keys added within the scope under way in this async context ({@link withLogKeys}). */
const scopes = new AsyncLocalStorage<Set<string>>();

/**
 * Puts keys on every line the logger writes from now on, until the scope under way ends
 * ({@link withLogKeys}); outside any scope, until the invocation ends (the handlers' middleware
 * resets the keys). Keys without a value are left out.
 */
export const addLogKeys = (keys: LogKeys): void => {
  const values = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
  const names = Object.keys(values);
  const scope = scopes.getStore();
  for (const name of names) scope?.add(name);
  // Off first: Powertools merges a list into the one it replaces item by item.
  logger.removeKeys(names);
  logger.appendKeys(values);
};

/**
 * Runs `work` with these keys on every line the logger writes meanwhile, and takes them off after,
 * whatever happens, with any key `work` added on the way ({@link addLogKeys}): a warm Lambda
 * instance's next invocation, or the next day of the same one, does not carry this work's ids
 * (docs/aws.md, "Metrics and the dashboard"). A scope's keys are its own: do not nest two scopes
 * that set the same key.
 */
export const withLogKeys = <T>(keys: LogKeys, work: () => Promise<T>): Promise<T> =>
  scopes.run(new Set<string>(), async () => {
    const added = scopes.getStore()!;
    try {
      addLogKeys(keys);
      return await work();
    } finally {
      logger.removeKeys([...added]);
    }
  });
