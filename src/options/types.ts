/**
 * The shape of an option schema: every option of a role declared once, with
 * what each consumer needs (commander flags, environment, config file,
 * validation, defaults, README tables, the forked-worker config).
 */
import type { Kind } from './kinds.js'

/** What an integer counts. It picks the help placeholder (`<ms>`, `<bytes>`, `<n>`). */
export type Unit = 'ms' | 'bytes' | 'count'

export interface OptionSpec<T> {
  /** How the value is read and checked. */
  readonly kind: Kind<T>
  /** One line for `--help` and the README. */
  readonly help: string
  /**
   * The long flag without its dashes. It is also the config-file key, and, upper
   * snake case after `CGW_`, the environment variable (`batch-size`, `CGW_BATCH_SIZE`).
   * No flag: the option exists only in the library.
   */
  readonly flag?: string
  /** One-letter short flag. */
  readonly short?: string
  readonly unit?: Unit
  /** Applied when no source gives a value. */
  readonly default?: T
  /** The default in words, where the value is not the whole story ("number of CPUs"). */
  readonly defaultText?: string
  /** Heading the flag is listed under in `--help` and the README. */
  readonly group?: string
  /** A forked worker receives it from the gateway (see forkedWorkerOptions). */
  readonly forked?: boolean
  /** Only the command line has it; the library's options do not. */
  readonly cliOnly?: boolean
  /** No default: some source must give it. */
  readonly required?: boolean
  /** Help of the `--no-<flag>` form, for a switch that can also be turned off. */
  readonly negation?: string
  /** False for `--config` itself, which a config file cannot set. */
  readonly inConfigFile?: boolean
}

/** One role's options, keyed by the library's camelCase name. */
export type Schema = { readonly [key: string]: OptionSpec<unknown> }

/** The value type of one option. */
export type ValueOf<S> = S extends { readonly kind: Kind<infer T> } ? T : never

/** Keys of a schema's options that match `Filter`. */
type KeysWhere<S extends Schema, Filter> = { [K in keyof S]: S[K] extends Filter ? K : never }[keyof S]

/** Keys of the options the library has (every key but the command line's own). */
export type LibraryKeys<S extends Schema> = Exclude<keyof S, KeysWhere<S, { readonly cliOnly: true }>>

/** Keys that have a flag. */
export type FlagKeys<S extends Schema> = KeysWhere<S, { readonly flag: string }>

/** The defaults of the library's options, as `gatewayDefaults` and its siblings export them. */
export type DefaultsOf<S extends Schema> = { readonly [K in Extract<KeysWhere<S, { readonly default: unknown }>, LibraryKeys<S>>]: ValueOf<S[K]> }

/** What the command line resolved: every flagged option a source gave. */
export type CliValues<S extends Schema> = { -readonly [K in FlagKeys<S>]?: ValueOf<S[K]> }

/** Where a resolved value came from. */
export type Source = 'flag' | 'env' | 'config' | 'default'

/** Fixes a schema's type with every literal (flags, `cliOnly: true`) kept, and checks each default against its kind. */
export function defineSchema<const S extends { readonly [K in keyof S]: OptionSpec<ValueOf<S[K]>> }>(schema: S): S {
  return schema
}

/** The environment variable of a flag: `batch-size` is `CGW_BATCH_SIZE`. */
export function envName(flag: string): string {
  return `CGW_${flag.toUpperCase().replace(/-/g, '_')}`
}
