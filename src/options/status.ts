/**
 * The options of a status request (`requestStatus()` and `gateway-status`),
 * declared once. Keys are StatusRequestOptions' names.
 */
import { boolean, integer } from './kinds.js'
import { Group, configFlag, curveSecretFlag, serverKeyFlag } from './shared.js'
import { defineSchema } from './types.js'
import { watchFlag } from './watch.js'

export const statusSchema = defineSchema({
  timeoutMs: {
    flag: 'timeout',
    kind: integer(1),
    unit: 'ms',
    default: 3000,
    help: 'give up after this long without an answer',
    group: Group.timing,
  },
  json: {
    flag: 'json',
    kind: boolean(),
    default: false,
    defaultText: 'off',
    help: 'print the status as JSON',
    negation: 'print the status as text, whatever CGW_JSON or the config file says',
    group: Group.output,
    cliOnly: true,
  },
  ...watchFlag,
  ...curveSecretFlag,
  ...serverKeyFlag,
  config: configFlag('timeout = 5000'),
})
