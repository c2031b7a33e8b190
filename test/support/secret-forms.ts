/**
 * The forms a client secret takes on its way out of a process: as it is, base64 (alone, and in the
 * HTTP Basic header the client-credentials flow sends: `clientId:clientSecret`), base64url, and
 * URL-encoded (as in a form body). A leak in any of them is a leak.
 */
export const secretForms = (clientId: string, clientSecret: string): Record<string, string> => ({
  plain: clientSecret,
  base64: Buffer.from(clientSecret).toString('base64'),
  base64url: Buffer.from(clientSecret).toString('base64url'),
  'basic auth (base64 of id:secret)': Buffer.from(`${clientId}:${clientSecret}`).toString('base64'),
  'url-encoded': encodeURIComponent(clientSecret),
  'form-encoded': new URLSearchParams({ client_secret: clientSecret }).toString(),
});

/** The forms of `secrets` that `text` holds, by name: `[]` when it holds none. */
export const leakedForms = (text: string, forms: Record<string, string>): string[] =>
  Object.entries(forms)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name);
