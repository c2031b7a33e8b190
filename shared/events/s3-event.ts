import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { parseOrThrow } from '../parse.js';
import { decodeS3Key } from './s3-keys.js';

/**
 * The decoded keys of the ObjectCreated records of an S3 event (other records are ignored). The
 * event is read with Powertools' S3 notification schema, so a record S3 would not send (no
 * eventTime, a malformed datetime, no bucket) is refused; the key is decoded here, S3 sending it
 * form URL encoded.
 *
 * @throws {InvalidRecordError} naming every field that is wrong, and where, when the event is not
 *   an S3 notification
 */
export const createdKeysOf = (event: unknown): string[] =>
  parseOrThrow(S3Schema, event, 'S3 event')
    .Records.filter((r) => r.eventName.startsWith('ObjectCreated:'))
    .map((r) => decodeS3Key(r.s3.object.key));
