/** Calendar arithmetic on `YYYY-MM-DD` days, in UTC: what every step of the catalog counts in. */

export const msPerDay = 86_400_000;

/** Days since 1970-01-01 for a `YYYY-MM-DD` date. */
export const dayNumber = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / msPerDay);

/** The `YYYY-MM-DD` date of a day number. */
export const dateOfDay = (day: number): string => new Date(day * msPerDay).toISOString().slice(0, 10);
