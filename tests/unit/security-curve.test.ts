/**
 * The CURVE socket options, as plain objects: a server is a CURVE server in
 * ZAP domain `cgw` (protocol.md, Security); a client names its server's key.
 */
import { describe, expect, it } from 'vitest'
import { ZAP_DOMAIN, curveClientOptions, curveServerOptions } from '../../src/security/curve.js'

const SERVER = { publicKey: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7', secretKey: 'JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6' }
const CLIENT = { publicKey: 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID', secretKey: 'D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs' }

describe('CURVE socket options', () => {
  it('the ZAP domain is the one protocol.md names', () => {
    expect(ZAP_DOMAIN).toBe('cgw')
  })

  it('a server binds as a CURVE server on its own key pair, in ZAP domain cgw', () => {
    expect(curveServerOptions(SERVER)).toEqual({ curveServer: true, curvePublicKey: SERVER.publicKey, curveSecretKey: SERVER.secretKey, zapDomain: 'cgw' })
  })

  it('a client presents its own pair and names the server key it trusts; it is no server', () => {
    const options = curveClientOptions(CLIENT, SERVER.publicKey)
    expect(options).toEqual({ curveServerKey: SERVER.publicKey, curvePublicKey: CLIENT.publicKey, curveSecretKey: CLIENT.secretKey })
    expect('curveServer' in options).toBe(false)
  })
})
