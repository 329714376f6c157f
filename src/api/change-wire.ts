// A change event as every channel sends it (relations/changes, the SSE stream, webhook and AMQP
// bodies): snake_case, in one order, so that a consumer reads the same object wherever it comes from.
import type { ChangeEvent } from '../core/change-feed.js';
import type { Weights } from '../core/model.js';

export interface WireChangeEvent {
  readonly seq: number;
  readonly at: string;
  readonly call: ChangeEvent['call'];
  readonly rel_id: number;
  readonly profile_a: string;
  readonly db_a: number;
  readonly profile_b: string;
  readonly db_b: number;
  readonly before: Weights | null;
  readonly after: Weights | null;
}

export function changeEventToWire(e: ChangeEvent): WireChangeEvent {
  return {
    seq: e.seq,
    at: e.at,
    call: e.call,
    rel_id: e.relId,
    profile_a: e.profileA,
    db_a: e.dbA,
    profile_b: e.profileB,
    db_b: e.dbB,
    before: e.before,
    after: e.after,
  };
}
