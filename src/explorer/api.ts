// The page's way to call Ties: the project's typed client (`ties/client`, bundled by esbuild), so
// every call, parameter and answer the page uses comes from the server's own call table
// (src/api/calls.ts) — the page keeps no copy of the API. The token goes as a Bearer header.
import { type Answer, TiesApiError, TiesClient } from 'ties/client';

export { TiesApiError, TiesClient, TiesTransportError } from 'ties/client';

/** A client for the server that served this page (a reverse proxy's path prefix is kept). */
export function pageClient(token: string, fetchFn?: typeof fetch): TiesClient {
  return new TiesClient({
    baseUrl: new URL('.', document.baseURI),
    token,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
}

/** An error the page finds itself, shown at the field it names like the server's own. */
export function fieldError(errorText: string, call = 'explorer'): TiesApiError {
  return new TiesApiError({ code: 400, errorText, status: 400, call });
}

/** What an error says to a person: the server's error_text, or what went wrong on the way. */
export function errorText(err: unknown): string {
  if (err instanceof TiesApiError) return err.errorText;
  return err instanceof Error ? err.message : String(err);
}

// --- the answers the page reads, as the call table types them ----------------------------------

export type RelationType = Answer<'relations/types/list'>['data'][number];
export type Property = RelationType['properties'][number];
export type PropertyType = Property['type'];
export type GetAnswer = Answer<'relations/get'>;
export type RelationRow = GetAnswer['data'][number];
export type PropValue = RelationRow['props'][string]['value'];
export type CounterAnswer = Answer<'relations/get_counter'>;
export type Database = Answer<'databases/list'>['data'][number];
export type Field = Answer<'databases/fields_get'>['data'][number];
export type Resource = Answer<'resources/list'>['data'][number];
export type TokenInfo = Answer<'tokens/list'>['data'][number];
export type Profile = Answer<'profiles/get'>['data'];

/** A profile the page knows by id, and the database it lives in. */
export interface ProfileRef {
  readonly id: string;
  readonly db: number;
}
