/**
 * Size limits of CGP/1 fields and frames. Receivers enforce every one of them
 * on bytes from the network before using a value.
 */
export const Limits = {
  /** `id` and `client`: 1–128 UTF-8 bytes (protocol.md). */
  idBytes: 128,
  /** `replyTo`: 1–256 UTF-8 bytes (protocol.md). */
  replyToBytes: 256,
  /** `replyKey`: a CURVE public key in Z85, exactly 40 characters (protocol.md, Security). */
  replyKeyBytes: 40,
  /** `worker` ids; protocol.md gives no bound, so we use the same as `id`. */
  workerBytes: 128,
  /** A header is a small map; 64 KiB leaves room for unknown keys of later versions. */
  headerBytes: 64 * 1024,
  /** Nesting allowed in a header (unknown keys may hold nested values). */
  headerDepth: 8,
  /** Nesting allowed in a result body: `[[code, value], …]` plus room for structured values. */
  bodyDepth: 16,
  /** Upper bound on `attempt` and `capacity`, so a hostile peer cannot make counters absurd. */
  maxCounter: 1_000_000,
  /** Default batch limit (protocol.md). */
  defaultMaxBatch: 10_000,
  /** Default maximum ZeroMQ message size: 16 MiB (protocol.md). */
  defaultMaxMessageBytes: 16 * 1024 * 1024,
} as const
