/**
 * Spotify's `fields` query parameter on a playlist's items: which fields of the answer to return.
 * A comma-separated list; `a.b` selects `b` within `a`; `a(b,c)` selects `b` and `c` within `a`, or
 * within each element when `a` is a list; a list that starts with `!` returns everything but what
 * it names. Examples from Spotify's reference: `total,limit`, `items(added_at,added_by.id)`,
 * `items(track(name,href,album(name,href)))`, `items.track.album(!external_urls,images)`.
 */

/** What to keep of an object: the named fields, each with what to keep of it (`true`: all of it). */
export interface FieldSelection {
  readonly exclude: boolean;
  readonly fields: ReadonlyMap<string, FieldSelection | true>;
}

/** A `fields` value that is not well formed, with where. */
export class FieldsSyntaxError extends Error {}

/** Parses a `fields` value. @throws {FieldsSyntaxError} if it is not well formed. */
export const parseFields = (text: string): FieldSelection => {
  let at = 0;
  const fail = (what: string): never => {
    throw new FieldsSyntaxError(`${what} at character ${at + 1} of "${text}"`);
  };
  const name = (): string => {
    const match = /^[A-Za-z0-9_]+/.exec(text.slice(at));
    if (!match) return fail('a field name was expected');
    at += match[0].length;
    return match[0];
  };
  // One field of a list: a name, then `.field` (one field within it) or `(list)`, or nothing.
  const field = (): [string, FieldSelection | true] => {
    const key = name();
    if (text[at] === '.') {
      at += 1;
      return [key, { exclude: false, fields: new Map([field()]) }];
    }
    if (text[at] === '(') {
      at += 1;
      const inner = list();
      if (text[at] !== ')') fail('")" was expected');
      at += 1;
      return [key, inner];
    }
    return [key, true];
  };
  const list = (): FieldSelection => {
    const exclude = text[at] === '!';
    if (exclude) at += 1;
    const fields = new Map<string, FieldSelection | true>();
    for (;;) {
      const [key, selection] = field();
      const known = fields.get(key);
      fields.set(key, known === undefined ? selection : merge(known, selection));
      if (text[at] !== ',') return { exclude, fields };
      at += 1;
    }
  };
  const selection = list();
  if (at !== text.length) fail('"," or the end was expected');
  return selection;
};

/** The same field named twice (`a.b,a.c`): what either keeps. */
const merge = (a: FieldSelection | true, b: FieldSelection | true): FieldSelection | true => {
  if (a === true || b === true || a.exclude || b.exclude) return true;
  const fields = new Map(a.fields);
  for (const [key, selection] of b.fields) {
    const known = fields.get(key);
    fields.set(key, known === undefined ? selection : merge(known, selection));
  }
  return { exclude: false, fields };
};

/** What `selection` keeps of `value`: within each element of a list, as Spotify applies it. */
export const selectFields = (value: unknown, selection: FieldSelection | true): unknown => {
  if (selection === true || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((element) => selectFields(element, selection));
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const inner = selection.fields.get(key);
    if (selection.exclude) {
      if (inner === undefined) kept[key] = field;
    } else if (inner !== undefined) {
      kept[key] = selectFields(field, inner);
    }
  }
  return kept;
};
