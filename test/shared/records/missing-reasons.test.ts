import { describe, expect, it } from 'vitest';
import { addMissing, missingOf, noneMissing } from '../../../shared/records/missing-reasons.js';

describe('Function: missingOf', () => {
  it('counts tracks no source knows, tracks found without audio features, and each kind of reason', () => {
    expect(
      missingOf([
        { enrichment_status: 'ok', features_source: 'reccobeats', missing_reason: null },
        { enrichment_status: 'ok', features_source: null, missing_reason: 'not_found: no audio features: x' },
        { enrichment_status: 'ok', features_source: '', missing_reason: 'quota: no audio features: y' },
        {
          enrichment_status: 'not_found',
          features_source: null,
          missing_reason: 'not_found: no metadata: z; provider_error: no popularity: HTTP 500',
        },
        {
          enrichment_status: 'partial',
          features_source: null,
          missing_reason: 'provider_error: no metadata: w',
        },
      ]),
    ).toEqual({ notFound: 1, withoutFeatures: 2, byKind: { quota: 1, provider_error: 2, not_found: 2 } });
  });

  it('counts nothing for no rows, and no kind for a reason that is not text', () => {
    expect(missingOf([])).toEqual(noneMissing());
    expect(
      missingOf([{ enrichment_status: 'ok', features_source: 'reccobeats', missing_reason: 42 }]),
    ).toEqual(noneMissing());
  });
});

describe('Function: addMissing', () => {
  it('adds up two counts, kind by kind', () => {
    expect(
      addMissing(
        { notFound: 1, withoutFeatures: 2, byKind: { quota: 3, provider_error: 0, not_found: 1 } },
        { notFound: 4, withoutFeatures: 1, byKind: { quota: 2, provider_error: 5, not_found: 0 } },
      ),
    ).toEqual({ notFound: 5, withoutFeatures: 3, byKind: { quota: 5, provider_error: 5, not_found: 1 } });
  });
});
