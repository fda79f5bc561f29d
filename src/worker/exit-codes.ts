/**
 * Exit codes of a forked worker, as the gateway's pool reads them. 0 is a
 * worker that left (poison pill, gateway gone) and 70 a crash the worker
 * reported itself (src/util/crash-report.ts).
 */

/**
 * It could not start with the configuration it was given (its executor module
 * did not load), and said why in its log: EX_CONFIG of sysexits.h. Not a
 * crash, and another fork fails the same way until the configuration changes.
 */
export const CONFIG_EXIT_CODE = 78
