import * as z from 'zod';
import {
  malformedJsonSchema,
  quotaExceededSchema,
  serverErrorsSchema,
  slowSchema,
  type SandboxFaults,
} from './faults.js';
import { sandboxProviders, type SandboxEndpoint, type SandboxProvider } from './stats.js';

/**
 * The fault options of `chartflow sandbox` (docs/reliability.md, "Sandbox faults"), parsed into
 * the calls a test makes on {@link SandboxFaults}:
 *
 *   --fault <provider>[:<endpoint>]:<fault>[,next=<n>][,every=<n>]
 *     fault: 5xx[=500|502|503|504] | slow=<ms> | malformed | quota[=<retry-after seconds>]
 *   --fail-tracks <id>[,<id>…][@spotify|@reccobeats]
 *
 * Endpoints are named by their path, per provider (see {@link endpointNames}); without one, a
 * fault covers every API endpoint of its provider (not Spotify's token endpoint).
 */

/** The endpoints a fault may name, by the path each one answers. */
export const endpointNames: Readonly<Record<SandboxProvider, Readonly<Record<string, SandboxEndpoint>>>> = {
  spotify: {
    token: 'token',
    playlists: 'playlistItems',
    tracks: 'tracks',
    track: 'track',
    'audio-features': 'audioFeatures',
  },
  reccobeats: { track: 'reccobeatsTracks', 'audio-features': 'reccobeatsAudioFeatures' },
};

/** One fault to switch on, as the sandbox's own schemas take it. */
export type FaultSwitch =
  | { readonly kind: 'serverErrors'; readonly options: z.output<typeof serverErrorsSchema> }
  | { readonly kind: 'slow'; readonly options: z.output<typeof slowSchema> }
  | { readonly kind: 'malformedJson'; readonly options: z.output<typeof malformedJsonSchema> }
  | { readonly kind: 'quotaExceeded'; readonly options: z.output<typeof quotaExceededSchema> }
  | {
      readonly kind: 'failTrackLookups';
      readonly ids: readonly string[];
      readonly provider: SandboxProvider;
    };

const whole = (what: string) =>
  z
    .string()
    .regex(/^[0-9]+$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().positive(`${what} must be at least 1`));

const faultWords = /^(5xx|slow|malformed|quota)(?:=(.*))?$/;

/** The parts of a `--fault` spec, checked one by one so that each mistake is named. */
const faultSpec = z.string().transform((spec, ctx): FaultSwitch | typeof z.NEVER => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message: `--fault ${spec}: ${message}` });
    return z.NEVER;
  };
  const [head = '', ...options] = spec.split(',');
  const parts = head.split(':');
  if (parts.length < 2 || parts.length > 3) {
    return fail('expected <provider>[:<endpoint>]:<fault>, e.g. spotify:tracks:5xx');
  }
  const [providerName, ...rest] = parts as [string, ...string[]];
  const provider = z.enum(sandboxProviders).safeParse(providerName);
  if (!provider.success) return fail(`"${providerName}" is not a provider (${sandboxProviders.join(', ')})`);
  const names = endpointNames[provider.data];
  const endpointName = rest.length === 2 ? rest[0]! : undefined;
  const endpoint = endpointName === undefined ? undefined : names[endpointName];
  if (endpointName !== undefined && endpoint === undefined) {
    return fail(
      `"${endpointName}" is not an endpoint of ${provider.data} (${Object.keys(names).join(', ')})`,
    );
  }
  const word = faultWords.exec(rest.at(-1)!);
  if (!word) return fail(`"${rest.at(-1)}" is not a fault (5xx, slow=<ms>, malformed, quota)`);
  const extra: { next?: number; every?: number } = {};
  for (const option of options) {
    const [key, value = ''] = option.split('=');
    if (key !== 'next' && key !== 'every') return fail(`"${option}" is not an option (next=<n>, every=<n>)`);
    const n = whole(key).safeParse(value);
    if (!n.success) return fail(n.error.issues[0]!.message);
    extra[key] = n.data;
  }
  if (extra.every !== undefined && word[1] !== '5xx') return fail('every=<n> applies to 5xx only');
  if (extra.next !== undefined && word[1] === 'quota')
    return fail('a quota lasts until it lifts: no next=<n>');
  const scope = { provider: provider.data, ...(endpoint ? { endpoint } : {}) };
  const count = extra.next === undefined ? {} : { count: extra.next };
  const value = word[2];
  const parsed = (() => {
    switch (word[1]) {
      case '5xx': {
        const status = value === undefined ? {} : { status: Number(value) };
        if (value !== undefined && !/^50[0234]$/.test(value))
          return '5xx=<status> must be 500, 502, 503 or 504';
        const every = extra.every === undefined ? {} : { every: extra.every };
        return {
          kind: 'serverErrors',
          options: serverErrorsSchema.parse({ ...scope, ...count, ...every, ...status }),
        };
      }
      case 'slow': {
        const ms = whole('slow=<ms>').safeParse(value ?? '');
        if (!ms.success || ms.data > 600_000) return 'slow=<ms> needs a delay of 1 to 600000 ms';
        return { kind: 'slow', options: slowSchema.parse({ ...scope, ...count, delayMs: ms.data }) };
      }
      case 'malformed':
        if (value !== undefined) return 'malformed takes no value';
        return { kind: 'malformedJson', options: malformedJsonSchema.parse({ ...scope, ...count }) };
      default: {
        const seconds = value === undefined ? undefined : whole('quota=<seconds>').safeParse(value);
        if (seconds && !seconds.success) return seconds.error.issues[0]!.message;
        const retryAfter = seconds ? { retryAfterSeconds: seconds.data } : {};
        return { kind: 'quotaExceeded', options: quotaExceededSchema.parse({ ...scope, ...retryAfter }) };
      }
    }
  })();
  return typeof parsed === 'string' ? fail(parsed) : (parsed as FaultSwitch);
});

/** `--fail-tracks id1,id2[@provider]`: Spotify ids, failing at Spotify unless another provider is named. */
const failTracksSpec = z.string().transform((spec, ctx): FaultSwitch | typeof z.NEVER => {
  const [list = '', providerName = 'spotify', ...more] = spec.split('@');
  const provider = z.enum(sandboxProviders).safeParse(providerName);
  const ids = list.split(',').filter((id) => id !== '');
  const bad = ids.find((id) => !/^[A-Za-z0-9]{22}$/.test(id));
  const problem =
    more.length > 0 || !provider.success
      ? `"${spec.slice(list.length + 1)}" is not a provider (${sandboxProviders.join(', ')})`
      : ids.length === 0
        ? 'expected <id>[,<id>…][@provider]'
        : bad !== undefined
          ? `"${bad}" is not a Spotify track id (22 letters and digits)`
          : undefined;
  if (problem || !provider.success) {
    ctx.addIssue({ code: 'custom', message: `--fail-tracks ${spec}: ${problem}` });
    return z.NEVER;
  }
  return { kind: 'failTrackLookups', ids, provider: provider.data };
});

/** Both options of `chartflow sandbox`, as commander collects them (each one repeatable). */
export const faultOptionsSchema = z.object({
  fault: z.array(faultSpec).default([]),
  failTracks: z.array(failTracksSpec).default([]),
});

/** Switches each fault on, in the order given. */
export const switchOn = (faults: SandboxFaults, switches: readonly FaultSwitch[]): void => {
  for (const s of switches) {
    if (s.kind === 'failTrackLookups') faults.failTrackLookups(s.ids, { provider: s.provider });
    else if (s.kind === 'serverErrors') faults.serverErrors(s.options);
    else if (s.kind === 'slow') faults.slow(s.options);
    else if (s.kind === 'malformedJson') faults.malformedJson(s.options);
    else faults.quotaExceeded(s.options);
  }
};

/** One line per fault, as the sandbox prints what it switched on. */
export const describeSwitch = (s: FaultSwitch): string => {
  if (s.kind === 'failTrackLookups')
    return `track lookups of ${s.ids.join(', ')} fail at ${s.provider} (500)`;
  const where = `${s.options.provider}${s.options.endpoint ? ` ${s.options.endpoint}` : ''}`;
  const next =
    'count' in s.options && s.options.count !== undefined ? `, the next ${s.options.count} answer(s)` : '';
  if (s.kind === 'serverErrors') {
    const every = s.options.every === undefined ? '' : `, every ${s.options.every}th request`;
    return `${where}: ${s.options.status} server errors${every}${next}`;
  }
  if (s.kind === 'slow') return `${where}: answers held back ${s.options.delayMs} ms${next}`;
  if (s.kind === 'malformedJson') return `${where}: malformed JSON${next}`;
  return `${where}: quota exceeded (429, Retry-After ${s.options.retryAfterSeconds} s)`;
};
