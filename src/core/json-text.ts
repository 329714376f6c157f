// JsonText: an answer value already written as JSON text. relations/get builds its rows straight
// from the engine's raw rows into one string (no object per row, no second serialization): the
// hottest read of the API spends most of its time there otherwise. The value is still data, not
// HTTP: the JSON encoder splices the text in as it is, the XML encoder (and anything else that
// needs the value) reads it back with value(), so every format answers exactly what the objects
// would have given. It is never cached across calls: each call builds its own text.

export class JsonText<T = unknown> {
  constructor(
    /** The value as JSON text; whoever builds it guarantees it is valid JSON. */
    readonly text: string,
  ) {}

  /** The value itself, parsed anew (for encoders that cannot use the text). */
  value(): T {
    return JSON.parse(this.text) as T;
  }

  /** JSON.stringify of an object holding this: the value (a correct, slower path than splicing). */
  toJSON(): T {
    return this.value();
  }
}
