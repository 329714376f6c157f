// Where a call's token comes from: the body, an Authorization: Bearer header, or ?token= (SPEC §1).
export function extractToken(
  body: Readonly<Record<string, unknown>>,
  authorization: string | undefined,
  query: Readonly<Record<string, unknown>>,
): string | undefined {
  if (typeof body.token === 'string' && body.token !== '') return body.token;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  if (typeof query.token === 'string' && query.token !== '') return query.token;
  return undefined;
}

/** The URL with any token parameter masked, for logs (tokens are never written to logs). */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
