import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ObjectStore } from '../ports/object-store.js';

/**
 * What a manifest says of one file it lists: enough to tell, before a load, that the file is the
 * one its writer wrote (docs/reliability.md, "A lake that proves itself"). Every writer records the
 * files it writes: chart-fetch and the inbox in the day's manifest, track-attributes in each part's
 * manifest (its marker, `part-markers.ts`).
 */
export const lakeFileSchema = z.object({
  key: z.string().min(1),
  /** The file's size in bytes. */
  bytes: z.number().int().nonnegative(),
  /** The SHA-256 of the file's bytes, in hex: what S3 keeps as the object's `ChecksumSHA256`. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
  /**
   * Data rows of a CSV we wrote (its header left out); `null` for a payload kept as received (a
   * provider's JSON answer, a chart file dropped into the inbox), which no load reads.
   */
  rows: z.number().int().nonnegative().nullable(),
});
export type LakeFile = z.infer<typeof lakeFileSchema>;

/**
 * A body as the bytes a store writes (text as UTF-8). A writer that hashes a body, or records its
 * size, encodes it once with this and hands the bytes on: each step given the text encodes it again.
 */
export const bytesOf = (body: string | Uint8Array): Uint8Array =>
  typeof body === 'string' ? Buffer.from(body) : body; // a string as UTF-8, Buffer.from's default

/** The SHA-256 of a body, in hex. */
export const sha256Of = (body: string | Uint8Array): string =>
  createHash('sha256').update(body).digest('hex');

/** What a manifest records of a file its writer is about to write. */
export const lakeFileOf = (key: string, body: string | Uint8Array, rows: number | null): LakeFile => ({
  key,
  // Stryker disable next-line ConditionalExpression: Buffer.byteLength of a Uint8Array is its byteLength
  bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
  sha256: sha256Of(body),
  rows,
});

/**
 * How a listed file can fail its manifest: gone, another size, other bytes of the same size.
 * `verify` adds the files no manifest lists, and the days written before manifests had checksums.
 */
export const fileProblemKinds = ['missing', 'size', 'checksum', 'unlisted', 'unverified'] as const;
export type FileProblemKind = (typeof fileProblemKinds)[number];

/** One file that is not what its manifest says. */
export interface FileProblem {
  readonly key: string;
  readonly kind: FileProblemKind;
  /** What differs, in a few words: `1042 bytes, the manifest says 2210`. */
  readonly detail: string;
}

const shortHash = (sha256: string) => `${sha256.slice(0, 12)}…`;

/** The problem of a file as the store holds it (`undefined`: it is what its manifest says). */
export const problemOf = (
  file: LakeFile,
  held: { readonly bytes: number; readonly sha256: string } | undefined,
): FileProblem | undefined => {
  if (held === undefined) return { key: file.key, kind: 'missing', detail: 'the file is gone' };
  if (held.bytes !== file.bytes) {
    return {
      key: file.key,
      kind: 'size',
      detail: `${held.bytes} bytes, the manifest says ${file.bytes}`,
    };
  }
  if (held.sha256 !== file.sha256) {
    return {
      key: file.key,
      kind: 'checksum',
      detail: `SHA-256 ${shortHash(held.sha256)}, the manifest says ${shortHash(file.sha256)}`,
    };
  }
  return undefined;
};

/** Files checked at once: enough to hide the store's latency, not a flood. */
const concurrentChecks = 16;

/**
 * Checks files against what their manifests say, reading no more than the store must: S3 answers
 * with the checksum it computed when the file was written (`ChecksumMode`), the embedded store
 * hashes the file. Returns the files that are not what their manifests say, in the given order.
 */
export const checkFiles = async (store: ObjectStore, files: readonly LakeFile[]): Promise<FileProblem[]> => {
  // Stryker disable next-line ArrayDeclaration: an empty array grows as each check assigns its slot; filter reads the same values
  const problems: (FileProblem | undefined)[] = new Array(files.length);
  // Stryker disable next-line EqualityOperator: `<=` adds a round only at start === files.length, over an empty slice (the directive also takes `>=`, which never ends for no files and times out)
  for (let start = 0; start < files.length; start += concurrentChecks) {
    await Promise.all(
      files.slice(start, start + concurrentChecks).map(async (file, offset) => {
        problems[start + offset] = problemOf(file, await store.checksum(file.key));
      }),
    );
  }
  return problems.filter((p): p is FileProblem => p !== undefined);
};

/** A problem in one line: `tables/…/chart_songs.csv: size (1042 bytes, the manifest says 2210)`. */
export const describeProblem = (problem: FileProblem): string =>
  `${problem.key}: ${problem.kind} (${problem.detail})`;

/** The problems in one sentence, naming the first few files. */
export const describeProblems = (problems: readonly FileProblem[], shown = 3): string => {
  const named = problems.slice(0, shown).map(describeProblem).join('; ');
  const more = problems.length > shown ? `; and ${problems.length - shown} more` : '';
  return `${named}${more}`;
};
