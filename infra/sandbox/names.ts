import type { Rng } from './prng.js';

/**
 * Names for the synthetic catalog: plain ones built from word lists, and the hostile ones that
 * break naive CSV (names round-trip unchanged through the pipeline: nothing is cleaned).
 */

/** Where an artist is from; it decides which regional charts favour them. */
export type HomeMarket = 'us' | 'gb' | 'br' | 'other';

const adjectives = [
  'Electric',
  'Golden',
  'Midnight',
  'Broken',
  'Neon',
  'Silent',
  'Wild',
  'Velvet',
  'Crystal',
  'Lonely',
  'Burning',
  'Paper',
  'Sweet',
  'Cold',
  'Falling',
  'Hollow',
  'Lucky',
  'Purple',
  'Summer',
  'Secret',
  'Little',
  'Heavy',
  'Distant',
  'Crazy',
  'Perfect',
  'Dirty',
  'Shiny',
  'Blue',
  'Last',
  'Faded',
];
const nouns = [
  'Heart',
  'Lights',
  'Dreams',
  'City',
  'Fire',
  'Rain',
  'Love',
  'Night',
  'Ocean',
  'Stars',
  'Highway',
  'Kiss',
  'Ghost',
  'Mirror',
  'Sunset',
  'Thunder',
  'Paradise',
  'Roses',
  'Wolves',
  'Diamonds',
  'Satellite',
  'Echo',
  'Party',
  'Summer',
  'Shadows',
  'Money',
  'Angel',
  'Bridges',
  'Waves',
  'Gravity',
];
const verbs = [
  'Hold',
  'Call',
  'Save',
  'Kiss',
  'Take',
  'Leave',
  'Tell',
  'Show',
  'Need',
  'Miss',
  'Find',
  'Break',
];
const ptWords = [
  'Saudade',
  'Coração',
  'Noite',
  'Verão',
  'Beijo',
  'Amor',
  'Cidade',
  'Lua',
  'Mar',
  'Festa',
  'Sonho',
  'Paixão',
  'Estrela',
  'Favela',
  'Batida',
  'Sol',
  'Vida',
  'Desejo',
];
const ptPhrases = ['de Verão', 'da Madrugada', 'do Mar', 'Sem Fim', 'Proibido', 'na Pista', 'de Favela'];
const firstNames = [
  'Ava',
  'Liam',
  'Maya',
  'Noah',
  'Zoe',
  'Eli',
  'Nina',
  'Jude',
  'Ruby',
  'Leo',
  'Iris',
  'Kai',
  'Luna',
  'Omar',
  'Sage',
  'Theo',
  'Ivy',
  'Finn',
  'Mila',
  'Jax',
  'Cleo',
  'Rhys',
  'Skye',
  'Otis',
];
const lastNames = [
  'Carter',
  'Hayes',
  'Moreau',
  'Okafor',
  'Lindqvist',
  'Rivera',
  'Nakamura',
  'Brooks',
  'Sullivan',
  'Park',
  'Donovan',
  'Novak',
  'Reyes',
  'Whitfield',
  'Kowalski',
  'Ashby',
  'Mbeki',
  'Laurent',
  'Quinn',
  'Fitzgerald',
];
const ptFirstNames = [
  'Anitta',
  'Ludmilla',
  'Thiago',
  'Marília',
  'Gusttavo',
  'Pedro',
  'Júlia',
  'Matheus',
  'Luísa',
  'Iza',
];
const ptLastNames = ['Souza', 'Mendonça', 'Lima', 'Alves', 'Barbosa', 'Rocha', 'Santana', 'Ferraz', 'Teles'];
const gbPrefixes = ['Sir', 'Little', 'Young', 'Big'];

const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/** A track title; Brazilian artists mostly sing in Portuguese. */
export const trackTitle = (rng: Rng, market: HomeMarket): string => {
  if (market === 'br' && rng.chance(0.7)) {
    return rng.chance(0.5) ? `${rng.pick(ptWords)} ${rng.pick(ptPhrases)}` : rng.pick(ptWords);
  }
  switch (rng.int(0, 5)) {
    case 0:
      return `${rng.pick(adjectives)} ${rng.pick(nouns)}`;
    case 1:
      return `${rng.pick(nouns)} of ${rng.pick(nouns)}`;
    case 2:
      return `${rng.pick(verbs)} Me ${rng.chance(0.5) ? 'Now' : 'Closer'}`;
    case 3:
      return rng.pick(nouns);
    case 4:
      return `${rng.pick(adjectives)} ${rng.pick(nouns)} (${rng.chance(0.5) ? 'Remix' : 'Acoustic'})`;
    default:
      return `${rng.pick(verbs)} the ${rng.pick(nouns)}`;
  }
};

/** An album title. */
export const albumTitle = (rng: Rng, market: HomeMarket): string => {
  if (market === 'br' && rng.chance(0.6)) return `${rng.pick(ptWords)} ${rng.pick(ptPhrases)}`;
  return rng.chance(0.3)
    ? `${rng.pick(adjectives)} ${rng.pick(nouns)} (Deluxe)`
    : `${rng.pick(adjectives)} ${rng.pick(nouns)}`;
};

/** An artist's name: a person, a band, or a stage name. */
export const artistName = (rng: Rng, market: HomeMarket): string => {
  if (market === 'br') {
    return rng.chance(0.3)
      ? `MC ${rng.pick(ptFirstNames)}`
      : `${rng.pick(ptFirstNames)} ${rng.pick(ptLastNames)}`;
  }
  switch (rng.int(0, 5)) {
    case 0:
      return `The ${rng.pick(adjectives)} ${rng.pick(nouns)}`;
    case 1:
      return `Lil ${rng.pick(nouns)}`;
    case 2:
      return market === 'gb'
        ? `${rng.pick(gbPrefixes)} ${rng.pick(firstNames)}`
        : `DJ ${rng.pick(firstNames)}`;
    case 3:
      return rng.pick(nouns).toUpperCase();
    default:
      return `${rng.pick(firstNames)} ${rng.pick(lastNames)}`;
  }
};

/**
 * The name an artist takes when they rebrand: a new stage name, a shortened one, or a stylized
 * one, always different from the old.
 */
export const renamedArtist = (rng: Rng, market: HomeMarket, before: string): string => {
  const candidates = [
    before.toLowerCase() === before ? before.toUpperCase() : before.toLowerCase(),
    `${before.split(' ')[0] ?? before} ${capitalize(rng.pick(nouns).toLowerCase())}`,
    artistName(rng, market),
    `${before} & The ${rng.pick(nouns)}`,
  ];
  const after = rng.pick(candidates);
  return after === before ? `${before} II` : after;
};

/**
 * Names that break naive CSV writers and readers. Each is exercised end to end: the tracks that
 * carry them are evergreen enough to sit on the global chart every day (see catalog.ts).
 */
export const trickyTracks = [
  { name: 'Love, Actually, Again', artist: 'Tyler, the Lighthouse', album: 'Greatest Hits, Vol. 2' },
  { name: 'She Said "Never"', artist: 'DJ "Snake Eyes"', album: '"Live" at the Basement' },
  { name: 'Line One\nLine Two', artist: 'The Newline\nCollective', album: 'Two\nLines' },
  { name: 'Carriage\r\nReturn', artist: 'CRLF Kid', album: 'Windows\r\nEndings' },
  { name: 'Rockstar 👩‍🎤', artist: '🌈 Rainbow Kid', album: 'Family 👨‍👩‍👧‍👦 Portrait' },
  { name: 'Samba 🇧🇷 Nights', artist: 'Bloco 🇧🇷🇵🇹', album: 'Bandeiras 🇧🇷🇬🇧🇺🇸' },
  { name: '\u200Fيا ليل يا عين', artist: '\u200Fفرقة القمر', album: '\u200Fألبوم الليل' },
  { name: 'שיר אהבה\u200F', artist: 'להקת הים\u200F', album: 'ים ושמש (2019)' },
  { name: '  Spaces Around  ', artist: ' Trailing Space Collective ', album: '   Indented' },
  { name: '"Quoted, with comma"\nand a newline', artist: 'Mixed, "Up"\r\nBand', album: 'It\'s, "All"\nHere' },
] as const;

/**
 * Small decorations that make an ordinary generated name hostile too, so that hostile names also
 * turn up across the long tail and not only in the evergreen set.
 */
export const decorateTricky = (rng: Rng, name: string): string =>
  rng.pick([
    `${name}, Pt. 2`,
    `${name} "Radio Edit"`,
    `${name} 🔥`,
    `${name} 🧑🏽‍🚀`,
    `${name} 🇬🇧`,
    ` ${name} `,
    `${name}\n(Interlude)`,
    `${name} \u200Fحب`,
    `${name} — חלום`,
  ]);
