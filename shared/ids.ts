import { randomBytes } from 'node:crypto';
import type { Clock } from './ports/clock.js';

/**
 * A run or load id: the UTC time it was made, then randomness, so ids sort by time and never
 * collide (`20261120T061502123Z-9f2c4a1b`).
 */
export const newId = (clock: Clock): string =>
  `${clock.now().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
