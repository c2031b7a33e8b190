import type { OpenBreaker } from '../../shared/http/circuit-breaker.js';
import { listDay } from '../../shared/lake/layouts.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { keyedParts } from '../../shared/lake/part-markers.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { ChartDay } from '../../shared/records/messages.js';

/** A day under way: its run, and its manifest's track count once read. */
interface WatchedDay {
  readonly day: ChartDay;
  readonly runId: string;
  total?: number;
}

/**
 * A line on stderr, at most once a second and only when it changed, while the tracks of the days
 * under way are enriched: "chartflow: enriching 183/200, spotify GET /v1/tracks open after 5
 * failures". Tracks are counted from what track-attributes landed (the coverage its part markers
 * name, shared/lake/part-markers.ts) against the manifest's tracks, so the count is the lake's, not
 * a guess. Only the CLI asks for it (LocalPipelineOptions.onProgress).
 */
export class EnrichProgress {
  readonly #days = new Map<string, WatchedDay>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  #last = '';

  constructor(
    private readonly options: {
      readonly store: ObjectStore;
      readonly breakers: { opened(): OpenBreaker[] };
      readonly note: (line: string) => void;
      readonly intervalMs?: number;
    },
  ) {}

  /** Follows a day whose tracks are being enriched, until it is complete or {@link settle}. */
  watch(day: ChartDay, runId: string): void {
    this.#days.set(`${day.chartDate}|${day.chartId}|${runId}`, { day, runId });
    this.#timer ??= setInterval(() => void this.#tick(), this.options.intervalMs ?? 1_000);
    this.#timer.unref();
  }

  /** The run is over: nothing more to say. */
  settle(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#days.clear();
    this.#last = '';
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const line = await this.#line();
      if (line && line !== this.#last) this.options.note(line);
      this.#last = line ?? this.#last;
    } catch {
      // Progress is a courtesy: a listing that fails now is tried again next time.
    } finally {
      this.#ticking = false;
    }
  }

  async #line(): Promise<string | undefined> {
    let done = 0;
    let total = 0;
    for (const [key, watched] of this.#days) {
      const { store } = this.options;
      watched.total ??= (await readManifest(store, watched.day))?.trackIds.length;
      if (watched.total === undefined) continue;
      const listing = (await listDay(store, watched.day)).attributes;
      const covered = keyedParts(listing, watched.day, watched.runId).covered.size;
      done += covered;
      total += watched.total;
      // A complete day is counted once more, then left.
      if (covered >= watched.total) this.#days.delete(key);
    }
    if (total === 0) return undefined;
    const open = this.options.breakers.opened().map((b) => `, ${b.endpoint} ${b.reason}`);
    return `chartflow: enriching ${done}/${total}${open.join('')}`;
  }
}
