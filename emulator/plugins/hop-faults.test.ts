import { describe, expect, test } from 'vitest'
import { Transcript } from '../../core/transcript.ts'
import { HopFaults, type HopStep } from './hop-faults.ts'

const frame = (over: Partial<HopStep> = {}): HopStep => ({ step: 'frame', name: 'sse:abc', session: 'abc', direction: 'do->worker', methods: ['tools/call'], ...over })

describe('HopFaults', () => {
  test('acts only on steps that match every field, and records the fault', () => {
    const transcript = new Transcript()
    const faults = new HopFaults(transcript)
    faults.add({ match: { direction: 'do->worker', method: 'tools/call', session: 'abc' }, action: { type: 'drop' } })
    expect(faults.verdict(frame({ direction: 'worker->do' }))).toBeUndefined()
    expect(faults.verdict(frame({ methods: ['tools/list'] }))).toBeUndefined()
    expect(faults.verdict(frame({ session: 'other', name: 'sse:other' }))).toBeUndefined()
    expect(faults.verdict(frame())).toMatchObject({ action: 'drop' })
    expect(transcript.filter({ layer: 'hop', type: 'fault', action: 'drop' })).toHaveLength(1)
  })

  test('nth picks one matching step, times removes the fault and moves the generation on', () => {
    const faults = new HopFaults(new Transcript())
    const handle = faults.add({ match: { nth: 2 }, action: { type: 'delay', ms: 5 }, times: 1 })
    const before = faults.generation
    expect(faults.verdict(frame())).toBeUndefined()
    expect(faults.verdict(frame())).toMatchObject({ action: 'delay', ms: 5 })
    expect(handle.fired).toBe(1)
    expect(faults.armed).toBe(false)
    expect(faults.generation).toBeGreaterThan(before)
  })

  test('fail-upgrade acts on upgrades only; close on frames only; RPCs only for SSE messages', () => {
    const faults = new HopFaults(new Transcript())
    faults.add({ action: { type: 'fail-upgrade' } })
    faults.add({ action: { type: 'close', code: 4001 } })
    expect(faults.verdict(frame({ step: 'upgrade', direction: 'worker->do' }))).toMatchObject({ action: 'fail-upgrade', status: 503 })
    expect(faults.verdict(frame())).toMatchObject({ action: 'close', code: 4001 })
    faults.clear()
    faults.add({ action: { type: 'drop' } })
    expect(faults.verdict(frame({ step: 'rpc', direction: 'worker->do', rpc: 'getInitializeRequest' }))).toBeUndefined()
    expect(faults.verdict(frame({ step: 'rpc', direction: 'worker->do', rpc: 'onSSEMcpMessage' }))).toMatchObject({ action: 'drop' })
  })

  test('rejects an invalid fault naming the option path', () => {
    const faults = new HopFaults(new Transcript())
    expect(() => faults.add({ action: { type: 'delay', ms: -1 } })).toThrow(/ERR_OPTIONS[\s\S]*action\.ms/)
  })
})
