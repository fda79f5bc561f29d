/**
 * gateway-keygen: make a CURVE key pair as ZeroMQ certificates, the format
 * pyzmq's zmq.auth.create_certificates writes. Thin: writeCertificatePair().
 */
import { Command } from '@commander-js/extra-typings'
import { writeCertificatePair } from '../security/certificates.js'
import { terminalSafe } from '../util/terminal-text.js'
import { ExitCode, VERSION, exitCodeFor, parseArgv, reportError } from './common.js'

const EXAMPLES = `
Examples:
  # one certificate per role, on the host that will use it
  $ gateway-keygen /etc/cgw gateway            # on the gateway host
  $ gateway-keygen ~/.cgw client               # on each client host
  $ gateway-keygen /etc/cgw worker-01          # on each remote worker host

  # allow-lists are directories of public certificates: copy each NAME.key (never a
  # NAME.key_secret) to the hosts that must accept it
  $ scp ~/.cgw/client.key gw-host:/etc/cgw/clients/
  $ run-server devices.txt --curve-secret /etc/cgw/gateway.key_secret --clients-allow /etc/cgw/clients

Writes DIR/NAME.key (the public certificate, mode 0644) and DIR/NAME.key_secret (the
secret one, mode 0600; it holds the public key too), creating DIR (mode 0700) if needed,
and prints both paths and the public key. NAME is 1–128 characters of [A-Za-z0-9_.-].
pyzmq's zmq.auth.load_certificate reads both files; certificates made by pyzmq work
with every --curve-secret, --server-key and --…-allow option.
It never overwrites: if either file exists, it writes nothing.
Exit codes: 0 written · 2 nothing written: bad usage, a bad NAME, a file that already
exists, or DIR cannot be made or written in · 1 a failure while writing
`

function buildProgram() {
  return new Command('gateway-keygen')
    .description('Make a CURVE key pair for the command gateway: DIR/NAME.key (public) and DIR/NAME.key_secret (secret, 0600).')
    .version(VERSION)
    .argument('<dir>', 'directory to write the two files in (created if missing)')
    .argument('<name>', 'the certificate name: NAME.key and NAME.key_secret')
    .addHelpText('after', EXAMPLES)
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const [dir, name] = program.processedArgs
  try {
    const { publicFile, secretFile, publicKey } = await writeCertificatePair(dir, name)
    // DIR is the user's, but a pasted path can still hold escape sequences.
    process.stdout.write(`public  ${terminalSafe(publicFile)}\nsecret  ${terminalSafe(secretFile)}\nkey     ${publicKey}\n`)
    return ExitCode.Ok
  } catch (error) {
    reportError('gateway-keygen', error, false)
    return exitCodeFor(error)
  }
}

process.exitCode = await main(process.argv)
