// The doctor on a server that is not there: a finding, not a crash. The broken Workers of the
// repository (KI-01/07/12/13/22 and the rest) are in the confusion table of fixtures.test.ts.
import { expect, test } from 'vitest'
import { runDoctor } from '../../doctor/index.ts'

test('KI-21: an address where nothing listens is one failing finding, not a crash', async () => {
  const report = await runDoctor({ url: 'http://127.0.0.1:9/', timeoutMs: 1_000 })
  expect(report.findings.map((item) => [item.id, item.status, item.title])).toEqual([
    ['KI-21', 'fail', 'Server reachable'],
    ['KI-11', 'skipped', 'State survives hibernation'],
  ])
  expect(report.findings[0]!.evidence[0]).toMatch(/^GET \/health → no answer/)
})

test('signIn without a sign-in function is refused before anything starts, naming what to pass', async () => {
  await expect(runDoctor({ url: 'http://127.0.0.1:9/', signIn: true })).rejects.toMatchObject({ code: 'ERR_OPTIONS', message: expect.stringContaining('no sign-in function was given') })
  await expect(runDoctor({ url: 'http://127.0.0.1:9/', signIn: true, token: 't' })).rejects.toMatchObject({ code: 'ERR_OPTIONS', message: expect.stringContaining('either signIn or a token') })
})
