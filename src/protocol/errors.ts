/**
 * Errors with stable `code` strings. Branch on `code`, never on `message`.
 */

/** Codes of {@link ConfigError}: an option or argument that cannot work. */
export type ConfigErrorCode = 'ERR_INVALID_OPTION' | 'ERR_ENDPOINT'

/** An option, argument or endpoint that cannot work. The CLIs exit 2 on it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code: ConfigErrorCode
  constructor(code: ConfigErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Codes of {@link InputError}: an input file that cannot be used. */
export type InputErrorCode = 'ERR_INPUT_UNREADABLE' | 'ERR_INPUT_EMPTY' | 'ERR_INPUT_BAD_LINES'

/** An input file that cannot be read or has bad lines in strict mode. The CLIs exit 2 on it. */
export class InputError extends Error {
  override readonly name = 'InputError'
  readonly code: InputErrorCode
  readonly path: string
  constructor(code: InputErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.path = path
  }
}

/** Codes of {@link SendError}. */
export type SendErrorCode =
  /** The send high-water mark stayed reached through every retry. */
  | 'ERR_SEND_RETRIES_EXHAUSTED'
  /** The socket or its sender was closed before the message went out. */
  | 'ERR_SEND_CLOSED'
  /** Too many messages were already waiting for this socket. */
  | 'ERR_SEND_BACKLOG_FULL'
  /** ZeroMQ refused the message for another reason (see `cause`). */
  | 'ERR_SEND_FAILED'

/** A message that could not be handed to ZeroMQ. */
export class SendError extends Error {
  override readonly name = 'SendError'
  readonly code: SendErrorCode
  readonly endpoint: string
  constructor(code: SendErrorCode, endpoint: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.endpoint = endpoint
  }
}

/**
 * Thrown by an executor when it knows no such address or command. The worker
 * reports it as code 1 (`unknown`).
 */
export class UnknownCommandError extends Error {
  override readonly name = 'UnknownCommandError'
  readonly code = 'ERR_UNKNOWN_COMMAND'
  constructor(address: string, command: string) {
    super(`unknown command ${address}:${command}`)
  }
}

/** The `code` of an error-like value, if it has a string one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code
    return typeof code === 'string' ? code : undefined
  }
  return undefined
}

/** A one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
