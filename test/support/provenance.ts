import diagnostics_channel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Sandbox, SandboxEndpoint, SandboxStatsSnapshot } from '../../infra/sandbox/index.js';
import { sandboxEndpoints } from '../../infra/sandbox/index.js';
import type { LocalPipeline } from '../../infra/local/runtime.js';
import { tablePrefix } from '../../shared/lake/keys.js';
import { fromStageCsv } from '../../shared/records/csv.js';

/** A `stage.song_attributes` row as the lake holds it: every cell a string, or null when empty. */
export type AttributeRow = Record<string, string | null>;

/** The attribute rows a run landed for its day and chart, by track id (read from the lake's CSV parts). */
export const attributeRowsOf = async (
  pipeline: LocalPipeline,
  day: { chartId: string; chartDate: string; runId: string | null },
): Promise<Map<string, AttributeRow>> => {
  const rows = new Map<string, AttributeRow>();
  for (const { key } of await pipeline.store.list(
    tablePrefix('song_attributes', day.chartDate, day.chartId),
  )) {
    const body = (await pipeline.store.get(key))?.toString('utf8') ?? '';
    for (const row of fromStageCsv('song_attributes', body, key)) {
      if (row.run_id !== day.runId) continue;
      if (rows.has(row.track_id!)) throw new Error(`two rows for ${row.track_id} in run ${day.runId}`);
      rows.set(row.track_id!, row);
    }
  }
  return rows;
};

/** Requests the sandbox received per endpoint between two snapshots of its stats. */
export const requestsBetween = (
  before: SandboxStatsSnapshot,
  after: SandboxStatsSnapshot,
): Record<SandboxEndpoint, number> =>
  Object.fromEntries(sandboxEndpoints.map((e) => [e, after.requests[e] - before.requests[e]])) as Record<
    SandboxEndpoint,
    number
  >;

/** A request this process's HTTP client sent: its URL, and when (`performance.now()`). */
export interface SentRequest {
  readonly url: string;
  readonly at: number;
}

/**
 * Records every request this process's HTTP client (node:http, which the provider clients send
 * through) starts, from now until `stop`, as Node.js publishes them on its diagnostics channel.
 */
export const recordRequests = (): { readonly sent: SentRequest[]; urls(): string[]; stop(): void } => {
  const sent: SentRequest[] = [];
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    sent.push({
      url: `${request.protocol}//${String(request.getHeader('host'))}${request.path}`,
      at: performance.now(),
    });
  };
  diagnostics_channel.subscribe('http.client.request.start', onStart);
  return {
    sent,
    urls: () => sent.map((s) => s.url),
    stop: () => diagnostics_channel.unsubscribe('http.client.request.start', onStart),
  };
};

/**
 * The ids each request to one of the sandbox's endpoints asked for, in order: the `ids` query of a
 * multi-id endpoint (`/v1/audio-features`, `/reccobeats/v1/track`), or the path's last part for
 * `/v1/tracks/{id}`.
 */
export const idsAskedOf = (
  urls: readonly string[],
  sandbox: Pick<Sandbox, 'url'>,
  pathname: string,
): string[][] =>
  urls.flatMap((raw) => {
    if (!raw.startsWith(`${sandbox.url}/`)) return [];
    const url = new URL(raw);
    if (pathname.endsWith('/{id}')) {
      const prefix = pathname.slice(0, -'{id}'.length);
      return url.pathname.startsWith(prefix) && url.pathname.length > prefix.length
        ? [[decodeURIComponent(url.pathname.slice(prefix.length))]]
        : [];
    }
    if (url.pathname !== pathname) return [];
    return [(url.searchParams.get('ids') ?? '').split(',').filter((id) => id !== '')];
  });
