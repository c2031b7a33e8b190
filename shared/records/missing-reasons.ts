import * as z from 'zod';

/**
 * Why a track's attribute group is missing, as the first word of each reason in
 * `song_attributes.missing_reason` (docs/reliability.md, "A day loads with what it has"):
 * - `quota`: a provider refused for a long while (a spent quota, a Retry-After beyond the client's
 *   inline wait); asked again once that time has passed;
 * - `provider_error`: the provider failed (a 5xx after retries, a network fault, an open circuit
 *   breaker, an answer that failed validation); asked again by the next run or `retry-missing`;
 * - `not_found`: every source asked answered, and none has it (or no source is configured for it).
 */
export const missingKinds = ['quota', 'provider_error', 'not_found'] as const;
export const missingKindSchema = z.enum(missingKinds);
export type MissingKind = z.infer<typeof missingKindSchema>;

/** The kinds that are worth asking again: they go to the backlog (shared/lake/backlog.ts). */
export const retryableKinds: readonly MissingKind[] = ['quota', 'provider_error'];

/** The attribute groups a track row has, each from its own source. */
export const attributeGroups = ['metadata', 'popularity', 'features'] as const;
export const attributeGroupSchema = z.enum(attributeGroups);
export type AttributeGroup = z.infer<typeof attributeGroupSchema>;

/**
 * Reasons of one row are joined with this; a reason's own detail never contains it (details that
 * list several things join them with ", then " or ", ").
 */
export const reasonSeparator = '; ';

/** One reason, led by its kind: `quota: no popularity: reccobeats GET /v1/track: …`. */
export const kindReason = (kind: MissingKind, detail: string): string => `${kind}: ${detail}`;

const kindPattern = new RegExp(`(?:^|${reasonSeparator})(${missingKinds.join('|')}): `, 'g');

/** The kinds a `missing_reason` names, each once, in the order they first appear. */
export const kindsOf = (missingReason: string | null | undefined): MissingKind[] => {
  if (!missingReason) return [];
  const kinds = [...missingReason.matchAll(kindPattern)].map((m) => m[1] as MissingKind);
  return [...new Set(kinds)];
};

/** The most actionable of several kinds: an error may be gone now, a quota later, an absence never. */
export const leadingKind = (kinds: readonly MissingKind[]): MissingKind | undefined =>
  kinds.includes('provider_error')
    ? 'provider_error'
    : kinds.includes('quota')
      ? 'quota'
      : kinds.includes('not_found')
        ? 'not_found'
        : undefined;

const count = z.number().int().nonnegative();

/**
 * What attribute rows lack, counted by track (docs/reliability.md, "A day loads with what it has"):
 * tracks no source knows, tracks found without audio features, and tracks with a missing group by
 * the kind of its reason (a track with two kinds counts under each).
 */
export const missingCountsSchema = z.object({
  notFound: count,
  withoutFeatures: count,
  byKind: z.record(missingKindSchema, count),
});
export type MissingCounts = z.infer<typeof missingCountsSchema>;

/** Nothing missing. */
export const noneMissing = (): MissingCounts => ({
  notFound: 0,
  withoutFeatures: 0,
  byKind: Object.fromEntries(missingKinds.map((kind) => [kind, 0])) as Record<MissingKind, number>,
});

/** What `song_attributes` rows lack: the rows as written, or as read back from their CSV. */
export const missingOf = (rows: Iterable<Readonly<Record<string, unknown>>>): MissingCounts => {
  const counts = noneMissing();
  for (const row of rows) {
    if (row.enrichment_status === 'not_found') counts.notFound += 1;
    else if (row.enrichment_status === 'ok' && !row.features_source) counts.withoutFeatures += 1;
    const reason = typeof row.missing_reason === 'string' ? row.missing_reason : null;
    for (const kind of kindsOf(reason)) counts.byKind[kind] += 1;
  }
  return counts;
};

/** Two counts added up. */
export const addMissing = (a: MissingCounts, b: MissingCounts): MissingCounts => ({
  notFound: a.notFound + b.notFound,
  withoutFeatures: a.withoutFeatures + b.withoutFeatures,
  byKind: Object.fromEntries(missingKinds.map((k) => [k, a.byKind[k] + b.byKind[k]])) as Record<
    MissingKind,
    number
  >,
});
