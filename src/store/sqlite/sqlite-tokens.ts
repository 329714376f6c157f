// API tokens on SQLite, never cached: the CLI may create or revoke them from another process while
// the server runs, and a revoked token must stop working at once.
import type { Right, TokenInfo, TokenRecord } from '../../core/model.js';
import type { NewToken } from '../../core/store.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';

interface TokenRow {
  id: number;
  name: string;
  rights: string;
  hash: string;
  created_at: string;
  last_used_at: string | null;
}

function toTokenRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    rights: JSON.parse(row.rights) as Right[],
    hash: row.hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

function toTokenInfo(row: TokenRow): TokenInfo {
  const { hash: _hash, ...info } = toTokenRecord(row);
  return info;
}

export class SqliteTokens {
  private readonly tokInsert: Stmt<TokenRow>;
  private readonly tokEnsure: Stmt<TokenRow>;
  private readonly tokByHash: Stmt<TokenRow>;
  private readonly tokAll: Stmt<TokenRow>;
  private readonly tokDelete: Stmt;
  private readonly tokDeleteNamed: Stmt;
  private readonly tokTouch: Stmt;

  constructor(
    statements: Statements,
    private readonly tx: SqliteTransactions,
  ) {
    const s = statements;
    this.tokInsert = s.cold<TokenRow>(
      'INSERT INTO tokens (name, rights, hash, created_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.tokEnsure = s.cold<TokenRow>(
      `INSERT INTO tokens (name, rights, hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (hash) DO UPDATE SET rights = excluded.rights RETURNING *`,
    );
    this.tokByHash = s.hot<TokenRow>('tokByHash', 'SELECT * FROM tokens WHERE hash = ?');
    this.tokAll = s.cold<TokenRow>('SELECT * FROM tokens ORDER BY id');
    this.tokDelete = s.cold('DELETE FROM tokens WHERE id = ?');
    this.tokDeleteNamed = s.cold('DELETE FROM tokens WHERE name = ?');
    this.tokTouch = s.cold(
      'UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    );
  }

  createToken(input: NewToken): TokenInfo {
    return this.tx.write(() =>
      toTokenInfo(this.tokInsert.get(input.name, JSON.stringify(input.rights), input.hash, input.now)!),
    );
  }

  ensureToken(input: NewToken): TokenInfo {
    return this.tx.write(() =>
      toTokenInfo(this.tokEnsure.get(input.name, JSON.stringify(input.rights), input.hash, input.now)!),
    );
  }

  findTokenByHash(hash: string): TokenRecord | null {
    return this.tx.read(() => {
      const row = this.tokByHash.get(hash);
      return row ? toTokenRecord(row) : null;
    });
  }

  listTokens(): readonly TokenInfo[] {
    return this.tx.read(() => this.tokAll.all().map(toTokenInfo));
  }

  revokeToken(id: number): boolean {
    return this.tx.write(() => this.tokDelete.run(id).changes > 0);
  }

  revokeTokensNamed(name: string): number {
    return this.tx.write(() => this.tokDeleteNamed.run(name).changes);
  }

  touchTokens(uses: readonly { readonly id: number; readonly at: string }[]): void {
    this.tx.write(() => {
      for (const use of uses) this.tokTouch.run(use.at, use.id, use.at);
    });
  }
}
