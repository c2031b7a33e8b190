/** The units a wait is told in, largest first, in milliseconds. */
const units = [
  { name: 'd', ms: 86_400_000 },
  { name: 'h', ms: 3_600_000 },
  { name: 'min', ms: 60_000 },
  { name: 's', ms: 1_000 },
] as const;

// Days only from two on: a daily quota's wait reads "24 h", as providers state it, not "1 d".
const largestUnitOf = (ms: number) =>
  units.findIndex((unit) => ms >= (unit.name === 'd' ? 2 * unit.ms : unit.ms));

/**
 * A duration as a person reads it: "850 ms", "4.5 s", "3 min 20 s", "24 h", "2 d 3 h". Waits of
 * hours were printed in milliseconds ("86399000 ms"), which nobody reads at a glance: a duration
 * of a minute or more is given in its two largest units, the smaller one rounded (so 86,399,000 ms
 * is "24 h", not "23 h 59 min"); days only from two days on.
 */
export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms) || ms < 0) return `${ms} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(Math.round(ms / 100) / 10).toString()} s`;
  if (ms < 60_000) return `${Math.round(ms / 1_000)} s`.replace(/^60 s$/, '1 min');
  // Rounded to the smaller unit first, so that 59 min 59.9 s reads "1 h", never "60 min".
  const first = largestUnitOf(ms);
  const rounded = Math.round(ms / units[first + 1]!.ms) * units[first + 1]!.ms;
  const index = largestUnitOf(rounded);
  const major = units[index]!;
  const minor = units[index + 1]!;
  const inMinor = Math.round(rounded / minor.ms);
  const perMajor = major.ms / minor.ms;
  const majors = Math.floor(inMinor / perMajor);
  const minors = inMinor % perMajor;
  return minors === 0 ? `${majors} ${major.name}` : `${majors} ${major.name} ${minors} ${minor.name}`;
};
