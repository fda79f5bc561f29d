/**
 * Commander flags generated from a schema, each under its help group, and
 * the values the command line gave, read back by the schema's keys.
 */
import { InvalidArgumentError, Option, type CommandUnknownOpts } from '@commander-js/extra-typings'
import { INVALID, type Kind } from './kinds.js'
import { flagTerm, helpLine } from './describe.js'
import type { CliValues, OptionSpec, Schema } from './types.js'

type Flagged = OptionSpec<unknown> & { readonly flag: string }

/** The flagged entries of a schema, in order. */
export function flaggedEntries(schema: Schema): [key: string, spec: Flagged][] {
  return Object.entries(schema).filter((entry): entry is [string, Flagged] => entry[1].flag !== undefined)
}

/**
 * A commander argument parser for a kind: the error names what was expected
 * and what arrived; commander adds the flag. Variadic kinds accumulate.
 */
export function argParserFor<T>(kind: Kind<T>): (text: string, previous: unknown) => T {
  return (text, previous) => {
    const value = kind.fromText(text)
    if (value === INVALID) throw new InvalidArgumentError(`expected ${kind.expected}, got ${JSON.stringify(text)}`)
    if (kind.variadic === true && Array.isArray(previous) && Array.isArray(value)) return [...(previous as unknown[]), ...(value as unknown[])] as T
    return value
  }
}

/** Reads back what the command line gave for a schema's flags. */
export interface FlagReader<S extends Schema> {
  /** Values given as flags, by schema key; absent when the flag was not typed. */
  given(): CliValues<S>
}

/**
 * Adds one commander option per flagged schema entry (two for a negatable
 * switch), with its help group, bounds and default in the help line. No
 * commander defaults are set: a value the user did not type stays absent, so
 * the environment and the config file can still give it.
 */
export function addSchemaFlags<S extends Schema>(command: CommandUnknownOpts, schema: S): FlagReader<S> {
  const attributes: [key: string, attribute: string][] = []
  for (const [key, spec] of flaggedEntries(schema)) {
    const option = new Option(flagTerm(spec), helpLine(spec))
    if (spec.kind.placeholder !== undefined) option.argParser(argParserFor(spec.kind))
    if (spec.group !== undefined) option.helpGroup(spec.group)
    command.addOption(option)
    if (spec.negation !== undefined) {
      const negated = new Option(`--no-${spec.flag}`, spec.negation)
      if (spec.group !== undefined) negated.helpGroup(spec.group)
      command.addOption(negated)
    }
    attributes.push([key, option.attributeName()])
  }
  return {
    given() {
      const values: Record<string, unknown> = {}
      for (const [key, attribute] of attributes) {
        if (command.getOptionValueSource(attribute) === 'cli') values[key] = command.getOptionValue(attribute)
      }
      return values as CliValues<S>
    },
  }
}
