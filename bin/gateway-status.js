#!/usr/bin/env node
import('../dist/bundle/gateway-status.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist')) {
    console.error('gateway-status: not built yet; run `npm install` (or `npm run build`) first')
    process.exit(2)
  }
  throw error
})
