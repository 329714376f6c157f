// The typed TypeScript client of Ties (`import { TiesClient } from 'ties/client'`).
export type { Answer, CallMap, CallName, Params, ProfileData, SuccessEnvelope } from './call-map.js';
export {
  isTiesApiError,
  isTiesTransportError,
  TiesApiError,
  TiesTransportError,
  type TransportFailure,
} from './client-errors.js';
export type { RetryOptions } from './retry-policy.js';
export {
  API_PATH,
  type BareCallMethod,
  type CallMethod,
  type CallOptions,
  type ChangeEventOf,
  type FollowChangesOptions,
  type MethodGroup,
  TiesClient,
  type TiesClientOptions,
} from './ties-client.js';
export {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  signWebhookBody,
  type VerifyOptions,
  verifyWebhookSignature,
} from './webhook-signature.js';
