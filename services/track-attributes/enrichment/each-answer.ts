import { RateLimitedError } from '../../../shared/errors.js';
import { bisectBatch, isProviderFailure } from './bisect.js';
import type { LookupFailure } from './lookup-session.js';

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
  /** An id whose call failed even alone, or that the endpoint could not be asked for, with why. */
  readonly onFailure: (id: string, failure: LookupFailure) => void;
  /**
   * Endpoint errors the caller handles itself (a gated endpoint closed to the app): rethrown. Any
   * other provider failure of the endpoint fails the ids not answered yet, and the pass goes on.
   */
  readonly rethrow?: (error: unknown) => boolean;
  /** An asked id, with the item answered for it, or `undefined` when the answer left it out. */
  readonly onAnswer: (id: string, item: unknown) => void;
  /**
   * The lookups of this endpoint under way in the process, for an endpoint whose answers do not
   * depend on the day asked about: an id another lookup is asking for is not asked again, but
   * waits for that answer (single-flight).
   */
  readonly inFlight?: InFlightLookups;
}

/** What became of one id of a lookup: the item answered (`undefined`: left out), a failure, or an error thrown. */
type IdOutcome =
  | { readonly answered: true; readonly item: unknown }
  | { readonly answered: false; readonly failure: LookupFailure }
  | { readonly answered: false; readonly error: unknown };

/**
 * Lookups under way, by endpoint and id, shared by the lookups of one process: the days of a
 * backfill enriched side by side ask for a track new on several of them once. An entry lives while
 * its lookup is under way; what was learned is kept by the attribute cache, not here.
 */
export class InFlightLookups {
  readonly #flights = new Map<string, Promise<IdOutcome>>();

  /**
   * Splits `ids` into those another lookup is asking for (their outcomes, to wait for) and those
   * this one asks for, claimed until {@link Claim.settle} gives their outcome.
   */
  claim(endpoint: string, ids: readonly string[]): { mine: Claim; theirs: Map<string, Promise<IdOutcome>> } {
    const theirs = new Map<string, Promise<IdOutcome>>();
    const settlers = new Map<string, (outcome: IdOutcome) => void>();
    for (const id of ids) {
      const key = `${endpoint}\u0000${id}`;
      const flight = this.#flights.get(key);
      if (flight) {
        theirs.set(id, flight);
        continue;
      }
      this.#flights.set(
        key,
        new Promise<IdOutcome>((resolve) =>
          settlers.set(id, (outcome) => {
            this.#flights.delete(key);
            resolve(outcome);
          }),
        ),
      );
    }
    return { mine: new Claim(settlers), theirs };
  }
}

/** The ids one lookup asks for on behalf of every lookup waiting for them. */
class Claim {
  constructor(private readonly settlers: Map<string, (outcome: IdOutcome) => void>) {}

  get ids(): string[] {
    return [...this.settlers.keys()];
  }

  settle(id: string, outcome: IdOutcome): void {
    // Stryker disable next-line OptionalChaining: every id settled is one of the claim's, settled once (askEach hands each asked id one outcome; settleRest only those left), so the settler is always there
    this.settlers.get(id)?.(outcome);
    this.settlers.delete(id);
  }

  /** Every id not settled yet gets `outcome` (the lookup threw before answering them). */
  settleRest(outcome: IdOutcome): void {
    for (const id of this.ids) this.settle(id, outcome);
  }
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from(
    // Stryker disable next-line ArithmeticOperator: more chunks than needed are empty slices, and bisectBatch asks nothing for an empty batch
    { length: Math.ceil(items.length / size) },
    (_, i) => items.slice(i * size, i * size + size),
  );

/**
 * Asks for ids in batches of the endpoint's size, bisecting a failed batch so that only the ids
 * that break it fail, keeps every answer as received, and hands each asked id the item answered for
 * it (matched by id, never by position), or `undefined` when the answer left it out. With
 * `inFlight`, an id another lookup is asking for gets that lookup's outcome instead of a call.
 */
export const eachAnswer = async (lookup: AnswerLookup): Promise<void> => {
  if (!lookup.inFlight) return askEach(lookup);
  const { mine, theirs } = lookup.inFlight.claim(lookup.endpoint, lookup.ids);
  try {
    await askEach({
      ...lookup,
      ids: mine.ids,
      onFailure: (id, failure) => {
        mine.settle(id, { answered: false, failure });
        lookup.onFailure(id, failure);
      },
      onAnswer: (id, item) => {
        mine.settle(id, { answered: true, item });
        lookup.onAnswer(id, item);
      },
    });
  } catch (error) {
    // An error thrown (an endpoint closed, a bug) is the outcome of every id not answered yet.
    mine.settleRest({ answered: false, error });
    throw error;
  }
  // Every asked id was answered or failed; none is left for a waiting lookup to hang on.
  // Stryker disable next-line ObjectLiteral,BooleanLiteral,StringLiteral: askEach gives every id it was handed an outcome or throws, so no id is left here and this outcome reaches no one; the call is a safety net
  mine.settleRest({ answered: false, failure: { kind: 'provider_error', reason: 'not answered' } });
  for (const [id, flight] of theirs) {
    const outcome = await flight;
    if (outcome.answered) {
      // The item as the other lookup received it is kept with this day's answers too.
      if (outcome.item !== undefined) lookup.keep(lookup.endpoint, [outcome.item]);
      lookup.onAnswer(id, outcome.item);
    } else if ('failure' in outcome) {
      lookup.onFailure(id, outcome.failure);
    } else {
      if (lookup.rethrow?.(outcome.error) || !isProviderFailure(outcome.error)) throw outcome.error;
      lookup.onFailure(id, failureOf(outcome.error));
    }
  }
};

const askEach = async (lookup: AnswerLookup): Promise<void> => {
  const batches = chunk(lookup.ids, lookup.size);
  for (const [index, batch] of batches.entries()) {
    let outcome: Awaited<ReturnType<typeof bisectBatch<unknown[]>>>;
    try {
      outcome = await bisectBatch(batch, lookup.fetch);
    } catch (error) {
      if (lookup.rethrow?.(error) || !isProviderFailure(error)) throw error;
      // The endpoint cannot answer now (a quota, an open breaker, a persistent error): this batch
      // and the ones after it are not asked, and what the earlier batches learned is kept.
      const failure = failureOf(error);
      for (const id of batches.slice(index).flat()) lookup.onFailure(id, failure);
      return;
    }
    for (const [id, reason] of outcome.failures) lookup.onFailure(id, { kind: 'provider_error', reason });
    for (const { ids: asked, answer } of outcome.answers) {
      lookup.keep(lookup.endpoint, answer);
      const found = byId(answer, lookup.idOf);
      for (const id of asked) lookup.onAnswer(id, found.get(id));
    }
  }
};

/**
 * A provider failure as a lookup failure: a rate limit that reached us (longer than the client
 * waits in place, or a spent quota) is a `quota`, anything else a `provider_error`, an open
 * breaker included.
 */
export const failureOf = (error: Error): LookupFailure =>
  error instanceof RateLimitedError
    ? { kind: 'quota', reason: error.message, retryAfterMs: error.retryAfterMs }
    : { kind: 'provider_error', reason: error.message };

/** Items by the id each is for; an item answered twice counts once, the first time. */
const byId = (answers: readonly unknown[], idOf: (item: object) => unknown): Map<string, unknown> => {
  const map = new Map<string, unknown>();
  for (const item of answers) {
    // Stryker disable next-line ConditionalExpression: idOf reads a property of the item, and a primitive's is undefined, no string id: a primitive is skipped all the same
    if (item && typeof item === 'object') {
      const id = idOf(item);
      if (typeof id === 'string' && !map.has(id)) map.set(id, item);
    }
  }
  return map;
};
