/** Tiny binary fixtures shared by the reference tools and the conformance fixtures. */

/** A 1x1 PNG (one blue pixel), base64. */
export const PNG_1X1_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mOw6Xn2HwAFZAKu+Lc6mwAAAABJRU5ErkJggg=='

/** A minimal, valid, silent WAV file (8 kHz mono, one sample), base64. */
export const WAV_SILENCE_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA=='

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
