// The page's way to call Ties: JSON over POST, the token as a Bearer header (never in the URL), and
// a non-zero envelope turned into an ApiError that knows which parameter its error_text names.

export const API_BASE = 'api/v1.1/';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** The envelope's error (0 when no answer arrived at all). */
    readonly code: number,
    readonly errorText: string,
    readonly call: string,
  ) {
    super(errorText);
  }

  /** Ties starts every error_text with the parameter's path: `weights.donate: …`, `profile_b: …`. */
  get param(): string | undefined {
    return /^([A-Za-z_][\w.[\]]*):/.exec(this.errorText)?.[1];
  }
}

export interface Envelope {
  readonly error: number;
  readonly error_text: string;
}

export type ApiCaller = <T>(name: string, params?: object) => Promise<T & Envelope>;

export function apiCaller(token: string): ApiCaller {
  return async <T>(name: string, params: object = {}) => {
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(`${API_BASE}${name}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(params),
      });
      body = await response.json();
    } catch {
      throw new ApiError(0, 'network: Ties did not answer; is the server running?', name);
    }
    const envelope = body as Partial<Envelope> | null;
    if (!envelope || typeof envelope.error !== 'number') {
      throw new ApiError(0, `network: HTTP ${response.status} without a Ties envelope`, name);
    }
    if (envelope.error !== 0) throw new ApiError(envelope.error, String(envelope.error_text ?? ''), name);
    return envelope as T & Envelope;
  };
}

// --- the answers the page reads (a subset of src/api/schemas.ts) ---------------------------------

export type PropertyType = 'int' | 'float' | 'bool' | 'string';
export type PropValue = number | boolean | string;

export interface Property {
  readonly name: string;
  readonly type: PropertyType;
  readonly top: number;
  readonly sum: boolean;
}

export interface RelationType {
  readonly rel_id: number;
  readonly name: string;
  readonly db_a: number;
  readonly db_b: number;
  readonly properties: readonly Property[];
}

export interface RelationRow {
  readonly profile_id_a: string;
  readonly profile_id_b: string;
  readonly db_a?: number;
  readonly db_b?: number;
  readonly props: Readonly<Record<string, { readonly value: PropValue }>>;
}

export interface GetAnswer {
  readonly data: readonly RelationRow[];
  readonly total_count: number;
  readonly next_from?: string;
}

export interface CounterProp {
  readonly total: number;
  readonly top: readonly { readonly profile_id: string; readonly value: number }[] | null;
  readonly sum: number | null;
}

export interface CounterAnswer {
  readonly data: {
    readonly profile_id: string;
    readonly total: number;
    readonly props: Readonly<Record<string, CounterProp>>;
  };
}

export interface Database {
  readonly id: number;
  readonly name: string;
  readonly description: string;
}

export interface Field {
  readonly name: string;
  readonly type: string;
  readonly is_custom: boolean;
}

export interface Resource {
  readonly id: number;
  readonly name: string;
  readonly channels: readonly string[];
  readonly dbs_ids: readonly number[];
}

export interface TokenInfo {
  readonly id: number;
  readonly name: string;
  readonly rights: readonly string[];
  readonly created_at: string;
  readonly last_used_at: string | null;
}

export interface Profile {
  readonly id: string;
  readonly db_id: number;
  readonly email?: string;
  readonly _fname?: string;
  readonly _lname?: string;
  readonly [field: string]: unknown;
}

/** A profile the page knows by id, and the database it lives in. */
export interface ProfileRef {
  readonly id: string;
  readonly db: number;
}
