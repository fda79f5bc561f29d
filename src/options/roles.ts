/** Which schema each command reads. */
import { clientSchema } from './client.js'
import { gatewaySchema } from './gateway.js'
import { statusSchema } from './status.js'
import { workerSchema } from './worker.js'
import { envNamesOf } from './cli.js'

export const cliSchemas = {
  'run-server': gatewaySchema,
  'run-client': clientSchema,
  'run-worker': workerSchema,
  'gateway-status': statusSchema,
} as const

export type CommandName = keyof typeof cliSchemas

/** Every CGW_ variable some command reads: one environment serves them all. */
export const allEnvNames: ReadonlySet<string> = envNamesOf(gatewaySchema, clientSchema, workerSchema, statusSchema)
