// Size limits core enforces on values (the HTTP layer enforces body size and nesting depth).
export interface Limits {
  /** Longest string accepted in a weight or profile field value. */
  readonly maxStringLength: number;
  /** Longest list accepted (tags, phones, subscriptions, fields, properties, batch items). */
  readonly maxArrayLength: number;
}

export const DEFAULT_LIMITS: Limits = { maxStringLength: 65_536, maxArrayLength: 1_000 };
