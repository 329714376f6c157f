// What a store may report about its group commits, for metrics: an optional capability beside the
// Store port (the port itself stays as it is), found by a type guard.
import type { Store } from './store.js';

export interface CommitInfo {
  /** Writes in the batch. */
  readonly ops: number;
  /** Wall time of the batch, commit (and fsync) included, in milliseconds. */
  readonly ms: number;
  /** False when the batch failed as a whole (nothing of it was written). */
  readonly ok: boolean;
}

export type CommitListener = (info: CommitInfo) => void;

export interface CommitObservable {
  /** Calls `listener` after every batch; answers a function that stops it. */
  onCommit(listener: CommitListener): () => void;
}

export function isCommitObservable(store: Store): store is Store & CommitObservable {
  return typeof (store as Partial<CommitObservable>).onCommit === 'function';
}
