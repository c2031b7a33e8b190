import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../../../shared/spotify/fields.js';
import { trackSchema } from '../../../shared/spotify/schemas.js';

describe('Function: fieldsOf', () => {
  it('asks for every field a schema reads, nested objects and lists of objects in parentheses', () => {
    const schema = z.object({
      id: z.string(),
      tags: z.array(z.string()),
      owner: z.object({ id: z.string(), name: z.string().nullish() }).nullish(),
      artists: z.array(z.object({ id: z.string() })).min(1),
      raw: z.unknown().optional(),
    });
    expect(fieldsOf(schema)).toBe('id,tags,owner(id,name),artists(id),raw');
  });

  it('asks of a Spotify track exactly what the track schema checks', () => {
    expect(fieldsOf(trackSchema)).toBe(
      'id,name,type,duration_ms,explicit,popularity,external_ids(isrc),artists(id,name),album(id,name,album_type,release_date,release_date_precision)',
    );
  });
});
