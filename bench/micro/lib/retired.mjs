// Hand-written pieces that lost their micro-benchmark and left src/, kept here
// verbatim (as plain JavaScript) so the figure that retired them can be
// measured again on any machine and commit.

// ---- frames.ts encodeCommands, before issue 10 ----------------------------

let byteLengths = new Uint32Array(2 * 256)

/** `[[address, command], …]` written byte by byte, sized exactly, shortest forms. */
export function handCommandListBody(commands) {
  return encodeCommands(commands.length, (i) => commands[i].address, (i) => commands[i].command)
}

export function handCommandsBody(pairs) {
  return encodeCommands(pairs.length, (i) => pairs[i][0], (i) => pairs[i][1])
}

function encodeCommands(n, addressAt, commandAt) {
  if (byteLengths.length < 2 * n) byteLengths = new Uint32Array(2 * n)
  let size = arrayHeaderSize(n)
  for (let i = 0; i < n; i++) {
    const address = (byteLengths[2 * i] = Buffer.byteLength(addressAt(i)))
    const command = (byteLengths[2 * i + 1] = Buffer.byteLength(commandAt(i)))
    size += 1 + stringSize(address) + stringSize(command)
  }
  const out = Buffer.allocUnsafe(size)
  let at = writeArrayHeader(out, 0, n)
  for (let i = 0; i < n; i++) {
    out[at++] = 0x92
    at = writeString(out, at, addressAt(i), byteLengths[2 * i])
    at = writeString(out, at, commandAt(i), byteLengths[2 * i + 1])
  }
  return out
}

function arrayHeaderSize(n) {
  return n < 16 ? 1 : n <= 0xffff ? 3 : 5
}

function stringSize(bytes) {
  return bytes + (bytes < 32 ? 1 : bytes <= 0xff ? 2 : bytes <= 0xffff ? 3 : 5)
}

function writeArrayHeader(out, at, n) {
  if (n < 16) {
    out[at] = 0x90 | n
    return at + 1
  }
  if (n <= 0xffff) {
    out[at] = 0xdc
    return out.writeUInt16BE(n, at + 1)
  }
  out[at] = 0xdd
  return out.writeUInt32BE(n, at + 1)
}

function writeString(out, at, text, length) {
  if (length < 32) {
    out[at++] = 0xa0 | length
  } else if (length <= 0xff) {
    out[at++] = 0xd9
    out[at++] = length
  } else if (length <= 0xffff) {
    out[at++] = 0xda
    at = out.writeUInt16BE(length, at)
  } else {
    out[at++] = 0xdb
    at = out.writeUInt32BE(length, at)
  }
  return at + out.write(text, at, 'utf8')
}

