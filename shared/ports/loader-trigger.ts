import type { ObjectInfo } from './object-store.js';

/**
 * Delivers a bucket notification again: the stage loader hears an ObjectCreated event for an object
 * the lake already holds, in the very shape S3 gives it, as if the object had just been written. On
 * AWS an asynchronous invocation of the stage loader (`LambdaLoaderTrigger`); on one machine the
 * local wiring's bucket notification. Nothing is written to the lake, so no other listener hears it.
 * How the reconciler repairs a day whose notification was lost (docs/reliability.md, "The reconciler").
 */
export interface LoaderTrigger {
  /** Hands the event to the stage loader; resolves once it is handed over, not when the load is done. */
  objectCreated(object: ObjectInfo): Promise<void>;
}
