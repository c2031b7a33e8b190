import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { AttributeCache } from '../../../../services/track-attributes/enrichment/attribute-cache.js';
import type { ReccoBeatsClient } from '../../../../shared/reccobeats/reccobeats-client.js';
import { AttributeEnricher } from '../../../../services/track-attributes/enrichment/attribute-enricher.js';
import { SpotifyAccess } from '../../../../shared/spotify/access.js';
import type { SpotifyClient } from '../../../../shared/spotify/spotify-client.js';

/** A lake of its own in a temp folder, for the attribute cache. */
export const freshLake = (): FsObjectStore =>
  new FsObjectStore({ root: mkdtempSync(path.join(tmpdir(), 'chartflow-enricher-')) });

/** An enricher with Spotify only (ReccoBeats off) and an empty cache. */
export const spotifyOnlyEnricher = (spotify: SpotifyClient, store = freshLake()): AttributeEnricher =>
  new AttributeEnricher({ cache: new AttributeCache(store), access: new SpotifyAccess(), spotify });

/** An enricher with the sources given and a cache in the lake given. */
export const enricherWith = (options: {
  spotify?: SpotifyClient;
  reccobeats?: ReccoBeatsClient;
  store?: FsObjectStore;
  access?: SpotifyAccess;
}): AttributeEnricher =>
  new AttributeEnricher({
    cache: new AttributeCache(options.store ?? freshLake()),
    access: options.access ?? new SpotifyAccess(),
    ...(options.spotify ? { spotify: options.spotify } : {}),
    ...(options.reccobeats ? { reccobeats: options.reccobeats } : {}),
  });
