import { bisectBatch } from './bisect.js';

/** One endpoint's lookup of many ids, as {@link eachAnswer} runs it. */
export interface AnswerLookup {
  readonly ids: readonly string[];
  /** The endpoint's ids per call. */
  readonly size: number;
  /** The name its answers are kept under, as received. */
  readonly endpoint: string;
  readonly keep: (endpoint: string, answers: readonly unknown[]) => void;
  readonly fetch: (ids: readonly string[]) => Promise<unknown[]>;
  /** The id an answered item is for. */
  readonly idOf: (item: object) => unknown;
  /** An id whose call failed even alone, with why. */
  readonly onFailure: (id: string, reason: string) => void;
  /** An asked id, with the item answered for it, or `undefined` when the answer left it out. */
  readonly onAnswer: (id: string, item: unknown) => void;
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * Asks for ids in batches of the endpoint's size, bisecting a failed batch so that only the ids
 * that break it fail, keeps every answer as received, and hands each asked id the item answered for
 * it (matched by id, never by position), or `undefined` when the answer left it out.
 */
export const eachAnswer = async (lookup: AnswerLookup): Promise<void> => {
  for (const batch of chunk(lookup.ids, lookup.size)) {
    const outcome = await bisectBatch(batch, lookup.fetch);
    for (const [id, reason] of outcome.failures) lookup.onFailure(id, reason);
    for (const { ids: asked, answer } of outcome.answers) {
      lookup.keep(lookup.endpoint, answer);
      const found = byId(answer, lookup.idOf);
      for (const id of asked) lookup.onAnswer(id, found.get(id));
    }
  }
};

/** Items by the id each is for; an item answered twice counts once, the first time. */
const byId = (answers: readonly unknown[], idOf: (item: object) => unknown): Map<string, unknown> => {
  const map = new Map<string, unknown>();
  for (const item of answers) {
    if (item && typeof item === 'object') {
      const id = idOf(item);
      if (typeof id === 'string' && !map.has(id)) map.set(id, item);
    }
  }
  return map;
};
