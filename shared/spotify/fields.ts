import type * as z from 'zod';

/**
 * The `fields` filter (Spotify's query parameter on playlist endpoints) that asks for exactly what
 * a schema reads: `id,name,artists(id,name),album(id,name)` for an object whose `artists` is a list
 * of objects and `album` an object. Optional and nullable fields are asked for like the others;
 * a field the schema takes whole (of unknown shape) is asked for whole.
 */
export const fieldsOf = (schema: z.ZodObject): string =>
  Object.entries(schema.shape)
    .map(([key, field]) => {
      const inner = objectWithin(field as z.ZodType);
      return inner ? `${key}(${fieldsOf(inner)})` : key;
    })
    .join(',');

/** The object schema a field holds, through optional, nullable and list wrappers, if it holds one. */
const objectWithin = (schema: z.ZodType): z.ZodObject | undefined => {
  const def = schema._zod.def as { type: string; innerType?: z.ZodType; element?: z.ZodType };
  if (def.type === 'object') return schema as z.ZodObject;
  if ((def.type === 'optional' || def.type === 'nullable') && def.innerType)
    return objectWithin(def.innerType);
  // Stryker disable next-line LogicalOperator: only an array's def has an element (zod 4's wrappers hold innerType), so || and && agree on every schema
  if (def.type === 'array' && def.element) return objectWithin(def.element);
  return undefined;
};
