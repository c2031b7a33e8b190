import type { Clock } from '../../../shared/ports/clock.js';
import type { Catalog, CatalogTrack } from '../catalog.js';
import type { SandboxFaults } from '../faults.js';
import type { SandboxStats } from '../stats.js';
import type { AsOfOf } from './as-of.js';
import type { GuardOf } from './endpoint-guard.js';
import type { ProviderErrorOf } from './provider-errors.js';

/** What every provider's plugin is given: the sandbox's parts, shared by all of them. */
export interface ProviderPluginOptions {
  readonly catalog: Catalog;
  readonly stats: SandboxStats;
  readonly faults: SandboxFaults;
  readonly clock: Pick<Clock, 'now'>;
  /** The hooks that count, authenticate, limit and fault each endpoint. */
  readonly guardOf: GuardOf;
  readonly asOfOf: AsOfOf;
  readonly errorOf: ProviderErrorOf;
}

/** A track as the day knows it: unknown ids and tracks not yet released are not found. */
export const trackAsOf = (catalog: Catalog, asOf: string, id: string): CatalogTrack | undefined =>
  catalog.isReleased(id, asOf) ? catalog.track(id) : undefined;
