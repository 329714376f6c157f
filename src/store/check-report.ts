/** What `ties check` found: whether the store is sound, and lines an operator reads. */
export interface CheckReport {
  readonly ok: boolean;
  readonly lines: readonly string[];
}
