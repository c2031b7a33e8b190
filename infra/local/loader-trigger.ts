import type { S3Event } from 'aws-lambda';
import type { LoaderTrigger } from '../../shared/ports/loader-trigger.js';
import { objectCreatedEvent } from '../adapters/embedded/s3-events.js';

/**
 * A lost ObjectCreated delivered again on one machine: the event the folder store would have
 * announced for the object (its bucket and region), handed to the local wiring's bucket
 * notifications, which invoke the stage loader as S3 does (asynchronously, with Lambda's retries).
 */
export const localLoaderTrigger = (
  objectCreated: (event: S3Event) => void,
  lake: { readonly bucket: string; readonly region: string },
): LoaderTrigger => ({
  objectCreated: async (object) =>
    objectCreated(
      objectCreatedEvent({
        bucket: lake.bucket,
        region: lake.region,
        key: object.key,
        size: object.size,
        etag: object.etag,
        eventName: 'ObjectCreated:Put',
        eventTime: object.lastModified,
      }),
    ),
});
