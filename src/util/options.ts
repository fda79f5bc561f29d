/** Defaults merging for option objects outside the schemas (the reply-socket cache). */

/** `defaults` overlaid with the options that are not `undefined`. */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value
  return merged as D & O
}
