// Tokens and rights (SPEC §7): tokens are random secrets shown once and stored as SHA-256 hashes;
// each call needs one right. Also mints the TIES_ADMIN_TOKEN and demo tokens.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './catalog-service.js';
import { badParameter, TiesError } from './errors.js';
import { RIGHTS, type Right, type TokenInfo, type TokenRecord } from './model.js';
import type { Store } from './store.js';

export function hashToken(token: string): string {
  // The one-shot form: a fifth of createHash's cost, and every call hashes its token.
  return hash('sha256', token, 'hex');
}

/** 32 random bytes, URL-safe, with a prefix so a leaked token is recognisable in a scan. */
export function generateToken(): string {
  return `ties_${randomBytes(32).toString('base64url')}`;
}

export function tokenSummary(t: TokenInfo) {
  return {
    id: t.id,
    name: t.name,
    rights: [...t.rights],
    created_at: t.createdAt,
    last_used_at: t.lastUsedAt,
  };
}

export function parseRights(rights: readonly string[], param = 'rights'): Right[] {
  if (rights.length === 0) throw badParameter(param, `expected one or more of ${RIGHTS.join(', ')}`);
  const out = new Set<Right>();
  rights.forEach((r, i) => {
    if (!RIGHTS.includes(r as Right))
      throw badParameter(`${param}[${i}]`, `expected one of ${RIGHTS.join(', ')}`);
    out.add(r as Right);
  });
  return RIGHTS.filter((r) => out.has(r));
}

const MAX_TOKEN_LENGTH = 512;
/**
 * A known token is looked up in the store at most this often: every call checks one, and the
 * lookup costs more than the rest of a simple read. Revoking in this process takes effect at once;
 * another process sharing the store (a second server) sees a revocation within this time.
 */
export const TOKEN_CACHE_TTL_MS = 5_000;
const TOKEN_CACHE_MAX = 10_000;
/** last_used_at is written in batches at most this often, not on every call. */
const TOUCH_INTERVAL_MS = 5_000;

/** The name of the token TIES_ADMIN_TOKEN declares; tokens/list shows it under this name. */
export const ENVIRONMENT_TOKEN_NAME = 'admin (TIES_ADMIN_TOKEN)';

export class AccessService {
  /** Last use per token id, in ms (written as text only when flushed: every call records one). */
  private readonly pendingTouches = new Map<number, number>();
  /** Known tokens by hash (never by the token itself), each until its expiry time. */
  private readonly cache = new Map<string, { readonly record: TokenRecord; readonly expires: number }>();
  /** Bumped by every revocation, so that a lookup that raced it is not cached. */
  private generation = 0;
  private touchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Checks the token and the right; answers the token's record or throws 401/403. */
  async authorize(token: string | undefined, right: Right, call: string): Promise<TokenRecord> {
    if (token === undefined || token === '') throw new TiesError('TOKEN_MISSING');
    if (token.length > MAX_TOKEN_LENGTH) throw new TiesError('TOKEN_UNKNOWN');
    const tokenHash = hashToken(token);
    const now = this.clock.now().getTime();
    const record = await this.lookup(tokenHash, now);
    if (!record) throw new TiesError('TOKEN_UNKNOWN');
    if (!record.rights.includes(right)) throw new TiesError('FORBIDDEN', { right, call });
    this.pendingTouches.set(record.id, now);
    if (!this.touchTimer) this.scheduleTouches();
    return record;
  }

  /**
   * The token with this hash, from the cache while fresh; unknown hashes are never cached. A record
   * from the store is compared in constant time before it is used or cached (the lookup is by hash,
   * so timing reveals nothing of the token anyway); a cached one was found under this very hash.
   */
  private async lookup(tokenHash: string, now: number): Promise<TokenRecord | null> {
    const cached = this.cache.get(tokenHash);
    if (cached && cached.expires > now) return cached.record;
    const generation = this.generation;
    const found = await this.store.findTokenByHash(tokenHash);
    const record =
      found && timingSafeEqual(Buffer.from(found.hash, 'hex'), Buffer.from(tokenHash, 'hex')) ? found : null;
    this.cache.delete(tokenHash);
    if (record && generation === this.generation) {
      if (this.cache.size >= TOKEN_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(tokenHash, { record, expires: now + TOKEN_CACHE_TTL_MS });
    }
    return record;
  }

  /** Drops cached tokens that match (after a revocation or a change of rights). */
  private forget(match: (record: TokenRecord) => boolean): void {
    this.generation++;
    for (const [hash, entry] of this.cache) if (match(entry.record)) this.cache.delete(hash);
  }

  private scheduleTouches(): void {
    this.touchTimer = setTimeout(() => void this.flushTouches(), TOUCH_INTERVAL_MS);
    this.touchTimer.unref();
  }

  /** Writes pending last-use times; also called on shutdown. */
  async flushTouches(): Promise<void> {
    if (this.touchTimer) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    if (this.pendingTouches.size === 0) return;
    const uses = [...this.pendingTouches].map(([id, at]) => ({ id, at: new Date(at).toISOString() }));
    this.pendingTouches.clear();
    try {
      await this.store.touchTokens(uses);
    } catch {
      // Last-use times are advisory; losing one batch when the store is away is acceptable.
    }
  }

  async create(p: { name: string; rights: readonly string[] }) {
    const name = p.name.trim();
    if (name === '' || name.length > 255)
      throw badParameter('name', 'expected a non-empty name of at most 255 characters');
    const rights = parseRights(p.rights);
    const token = generateToken();
    const info = await this.store.createToken({
      name,
      rights,
      hash: hashToken(token),
      now: this.clock.now().toISOString(),
    });
    return { data: { ...tokenSummary(info), token } };
  }

  async list() {
    return { data: (await this.store.listTokens()).map(tokenSummary) };
  }

  async revoke(p: { id: number }) {
    const revoked = await this.store.revokeToken(p.id);
    this.forget((record) => record.id === p.id);
    if (!revoked) throw new TiesError('TOKEN_NOT_FOUND', { id: p.id });
    return { data: { id: p.id } };
  }

  /** The TIES_ADMIN_TOKEN: exists with every right from this start on. */
  /**
   * Makes the environment's admin token (TIES_ADMIN_TOKEN) the one token of its name: the same value
   * keeps its token; a new value replaces it (the old one stops working); no value removes it. So
   * the variable is the whole truth about that token at every start.
   */
  async applyEnvironmentToken(token: string | undefined): Promise<TokenInfo | undefined> {
    const named = (await this.store.listTokens()).filter((t) => t.name === ENVIRONMENT_TOKEN_NAME);
    if (token === undefined) {
      if (named.length > 0) await this.revokeNamed(ENVIRONMENT_TOKEN_NAME);
      return undefined;
    }
    if (token.length < 16) throw new Error('TIES_ADMIN_TOKEN must be at least 16 characters long');
    const hash = hashToken(token);
    const current = await this.store.findTokenByHash(hash);
    const kept = current?.name === ENVIRONMENT_TOKEN_NAME && named.length === 1;
    if (!kept && named.length > 0) await this.revokeNamed(ENVIRONMENT_TOKEN_NAME);
    const info = await this.store.ensureToken({
      name: ENVIRONMENT_TOKEN_NAME,
      rights: RIGHTS,
      hash,
      now: this.clock.now().toISOString(),
    });
    this.forget((record) => record.hash === hash);
    return info;
  }

  /** The environment token with this value (tests and tools that play the server's start). */
  async ensureAdminToken(token: string): Promise<TokenInfo> {
    return (await this.applyEnvironmentToken(token))!;
  }

  private async revokeNamed(name: string): Promise<void> {
    await this.store.revokeTokensNamed(name);
    this.forget((record) => record.name === name);
  }

  /** Mints a token under a name, revoking earlier tokens of that name (used by the demo). */
  async rotateNamed(name: string, rights: readonly Right[]): Promise<string> {
    await this.revokeNamed(name);
    const token = generateToken();
    await this.store.createToken({
      name,
      rights,
      hash: hashToken(token),
      now: this.clock.now().toISOString(),
    });
    return token;
  }
}
