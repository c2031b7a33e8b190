import { InvalidRecordError } from '../errors.js';

// Characters that encodeURIComponent leaves alone but form encoding (which S3 uses) escapes.
const formReserved = /[!'()~]/g;
const percentEncode = (char: string) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`;

/**
 * Encodes an object key the way S3 writes it into event notifications: form URL encoding
 * (`a b=c.csv` becomes `a+b%3Dc.csv`), except that `/` stays as it is.
 */
export const encodeS3Key = (key: string): string =>
  key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(formReserved, percentEncode).replace(/%20/g, '+'))
    .join('/');

/**
 * The object key of an S3 event record (`Records[].s3.object.key`), decoded: S3 sends it form URL
 * encoded, so `+` is a space and `%2B` a plus. Every reader of S3 events must go through this.
 *
 * @throws {InvalidRecordError} if the key is not valid percent-encoding.
 */
export const decodeS3Key = (encoded: string): string => {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch (error) {
    throw new InvalidRecordError(`S3 event key "${encoded}" is not valid URL encoding`, { cause: error });
  }
};
