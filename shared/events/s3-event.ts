import { z } from 'zod';
import { describeIssues, InvalidRecordError } from '../errors.js';
import { decodeS3Key } from './s3-keys.js';

const s3EventSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }),
    }),
  ),
});

/** The decoded keys of the ObjectCreated records of an S3 event (other records are ignored). */
export const createdKeysOf = (event: unknown): string[] => {
  const parsed = s3EventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidRecordError(`S3 event: ${describeIssues(parsed.error.issues)}`);
  return parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) =>
    decodeS3Key(r.s3.object.key),
  );
};
