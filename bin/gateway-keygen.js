#!/usr/bin/env node
import('../dist/bundle/gateway-keygen.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist')) {
    console.error('gateway-keygen: not built yet; run `npm install` (or `npm run build`) first')
    process.exit(2)
  }
  throw error
})
