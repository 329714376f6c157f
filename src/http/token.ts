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

/**
 * The URL with any token parameter masked, for logs (tokens are never written to logs). Names are
 * compared decoded, since the query parser accepts `?to%6Ben=` as `token` too.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq !== -1 && isTokenName(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

function isTokenName(raw: string): boolean {
  let name = raw;
  try {
    name = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge the name as written.
  }
  return name.trim().toLowerCase() === 'token';
}
