/**
 * Every error the library throws on purpose shares one base class and a
 * stable string `code`. Branch on `code` (or the class), never on `message`.
 */

/** Base class of the library's errors: `code` is stable, `message` is for people. */
export class GatewayError<Code extends string = string> extends Error {
  override readonly name: string = 'GatewayError'
  readonly code: Code
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Codes of {@link ConfigError}: an option or argument that cannot work. */
export type ConfigErrorCode = 'ERR_INVALID_OPTION' | 'ERR_ENDPOINT' | 'ERR_CONFIG_FILE' | 'ERR_EXECUTOR' | 'ERR_CHECKS_FILE' | 'ERR_CERTIFICATE'

/** An option, argument, config file, executor module or endpoint that cannot work. The CLIs exit 2 on it. */
export class ConfigError extends GatewayError<ConfigErrorCode> {
  override readonly name = 'ConfigError'
}

/** Codes of {@link InputError}: an input file that cannot be used. */
export type InputErrorCode = 'ERR_INPUT_UNREADABLE' | 'ERR_INPUT_EMPTY' | 'ERR_INPUT_BAD_LINES'

/** An input file that cannot be read or has bad lines in strict mode. The CLIs exit 2 on it. */
export class InputError extends GatewayError<InputErrorCode> {
  override readonly name = 'InputError'
  readonly path: string
  constructor(code: InputErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
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
export class SendError extends GatewayError<SendErrorCode> {
  override readonly name = 'SendError'
  readonly endpoint: string
  constructor(code: SendErrorCode, endpoint: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.endpoint = endpoint
  }
}

/**
 * Thrown by an executor when it knows no such address or command. The worker
 * reports it as code 1 (`unknown`).
 */
export class UnknownCommandError extends GatewayError<'ERR_UNKNOWN_COMMAND'> {
  override readonly name = 'UnknownCommandError'
  constructor(address: string, command: string) {
    super('ERR_UNKNOWN_COMMAND', `unknown command ${address}:${command}`)
  }
}

/**
 * Thrown by an executor whose command ran past its own time limit (a check's
 * `timeout`), after it stopped the command's I/O. The worker reports it as
 * code 3 (`timeout`), as it does for its own `commandTimeoutMs`.
 */
export class CommandTimeoutError extends GatewayError<'ERR_COMMAND_TIMEOUT'> {
  override readonly name = 'CommandTimeoutError'
  constructor(address: string, command: string, ms: number) {
    super('ERR_COMMAND_TIMEOUT', `${address}:${command} timed out after ${ms} ms`)
  }
}

/** A status request (`gateway-status`, `requestStatus()`) that got no valid answer. */
export class StatusError extends GatewayError<'ERR_STATUS'> {
  override readonly name = 'StatusError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STATUS', message, options)
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
