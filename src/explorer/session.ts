// The signed-in session: the client with its token, what the token's rights allow (learned without
// changing anything), and the end of the session when the server stops accepting the token.
import { pageClient, TiesApiError, type TiesClient } from './api.js';

export interface Rights {
  /** attach, strengthen, edit, detach (the write right). */
  readonly write: boolean;
  /** tokens/list and the rest of the administration (the admin right). */
  readonly admin: boolean;
}

/** Why a session ends, in words for the sign-in page. */
export const SESSION_ENDED =
  'Your session ended: Ties no longer accepts this token (it was revoked, or the server restarted ' +
  'with a new demo token). Sign in again with a current token.';

/**
 * Whether the token holds a right, learned from a call that cannot change anything: Ties checks the
 * token's right before the parameters (SPEC §1, order of checks), so a call sent without its
 * parameters answers 403 without the right and 400 with it, and a 400 changes nothing.
 */
async function holds(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (err) {
    if (err instanceof TiesApiError && (err.code === 403 || err.code === 401)) return false;
    if (err instanceof TiesApiError && err.code === 400) return true;
    throw err;
  }
}

export async function probeRights(client: TiesClient): Promise<Rights> {
  const [write, admin] = await Promise.all([
    holds(() => client.relations.attach({} as never)),
    holds(() => client.tokens.list()),
  ]);
  return { write, admin };
}

/**
 * A client whose every answer is watched for 401: the token stopped working while the page was
 * open, and `onEnded` signs out with the reason. (Under `http_status: always200` the status is
 * 200 and the page learns it from the next failed call instead.)
 */
export function sessionClient(token: string, onEnded: () => void): TiesClient {
  return pageClient(token, async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 401) onEnded();
    return response;
  });
}
