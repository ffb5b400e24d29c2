import { expect, test } from 'vitest'
import { formatReport } from './format.ts'
import { finding } from './types.ts'

test('prints one line per finding, with cause and fix under failures', () => {
  const findings = [
    finding('KI-21', 'ok', { cause: '/health answers 200.' }),
    finding('KI-07', 'fail', { cause: 'The preflight gets 405.', fix: 'Answer OPTIONS.', evidence: ['OPTIONS /mcp → 405'] }),
    finding('KI-11', 'skipped', { cause: 'Needs --evict-check.' }),
  ]
  const text = formatReport({ target: 'server/wrangler.jsonc', url: 'http://127.0.0.1:1/', findings, summary: { ok: 1, warn: 0, fail: 1, skipped: 1 }, durationMs: 5 })
  expect(text.split('\n')).toEqual([
    'mcp-harness doctor: server/wrangler.jsonc (probed at http://127.0.0.1:1/)',
    '',
    '✓ KI-21 Health endpoint: /health answers 200.',
    '✗ KI-07 CORS preflight (OPTIONS)',
    '    symptom: browser: "blocked by CORS policy"; 405 on the preflight',
    '    cause:   The preflight gets 405.',
    '    fix:     Answer OPTIONS.',
    '    seen:    OPTIONS /mcp → 405',
    '- KI-11 State survives hibernation: skipped. Needs --evict-check.',
    '',
    '1 ok, 0 warn, 1 fail, 1 skipped (5 ms)',
    '',
  ])
})
