// The Node half of the hop tap: it pulls the isolate's buffered reports and records them in order.
import { describe, expect, test } from 'vitest'
import { Transcript } from '../../core/transcript.ts'
import { HopTap, type PullAnswer } from './hop.ts'

const fetchStep = (s: number) => ({ kind: 'fetch' as const, id: `f${s}`, name: 'obj', method: 'GET', url: `http://obj/${s}`, s, p: 'iso1' })

/** A tap whose pulls answer from a list, one answer per pull. */
function tapWith(answers: Omit<PullAnswer, 'p'>[]) {
  const transcript = new Transcript()
  const tap = new HopTap(transcript)
  let pulls = 0
  tap.bindPull(async () => ({ p: 'iso1', ...(answers[pulls++] ?? { events: [], s: answers.at(-1)?.s ?? 0 }) }))
  const urls = () => transcript.filter({ layer: 'hop', type: 'fetch' }).map((event) => event.url)
  return { tap, transcript, urls, pulls: () => pulls }
}

describe('HopTap pulls', () => {
  test('settled() pulls at once and records what the isolate held, in order', async () => {
    const { tap, urls, pulls } = tapWith([{ events: [fetchStep(1), fetchStep(2)], s: 2 }])
    await tap.settled()
    expect(pulls()).toBe(1)
    expect(urls()).toEqual(['http://obj/1', 'http://obj/2'])
    expect(tap.sessions()).toMatchObject([{ name: 'obj', transport: 'other', running: 2 }])
  })

  test('a report missing from a pull (still on its way in a verdict request) is skipped after a moment and recorded late, not dropped', async () => {
    const { tap, urls } = tapWith([{ events: [fetchStep(1), fetchStep(3)], s: 3 }, { events: [fetchStep(2)], s: 3 }])
    await tap.settled()
    expect(urls()).toEqual(['http://obj/1', 'http://obj/3'])
    await tap.pull()
    expect(urls()).toEqual(['http://obj/1', 'http://obj/3', 'http://obj/2'])
  })

  test('pulls asked for while one is on its way share the next one: none is lost, none runs twice at once', async () => {
    const { tap, urls, pulls } = tapWith([{ events: [fetchStep(1)], s: 1 }, { events: [fetchStep(2)], s: 2 }])
    const first = tap.pull()
    const [a, b] = [tap.pull(), tap.pull()]
    expect(a).toBe(b)
    await Promise.all([first, a, b])
    expect(pulls()).toBe(2)
    expect(urls()).toEqual(['http://obj/1', 'http://obj/2'])
  })

  test('a pull that fails (runtime down) resolves undefined and settled() does not wait', async () => {
    const transcript = new Transcript()
    const tap = new HopTap(transcript)
    tap.bindPull(() => Promise.reject(new Error('the runtime is restarting')))
    expect(await tap.pull()).toBeUndefined()
    await tap.settled()
    expect(transcript.events).toEqual([])
  })
})

describe('HopTap redaction', () => {
  test('credentials a Worker names itself (props, RPC values) are redacted before they are stored; JSON-RPC fields that only look alike are kept', async () => {
    const props = { accessToken: 'gho_secret1234', user: 'octocat' }
    const message = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'add', _meta: { progressToken: 'p-1' } } }
    const { tap, transcript } = tapWith([
      {
        events: [
          { kind: 'rpc', id: 'r1', name: 'obj', method: 'updateProps', args: JSON.stringify([props]), s: 1, p: 'iso1' },
          { kind: 'rpc-result', id: 'r1', name: 'obj', method: 'updateProps', ok: true, value: JSON.stringify({ githubToken: 'ghp_secret5678', count: 1 }), s: 2, p: 'iso1' },
          { kind: 'frame', conn: 'w1', name: 'obj', direction: 'worker->do', nth: 1, data: JSON.stringify(message), s: 3, p: 'iso1' },
        ],
        s: 3,
      },
    ])
    await tap.settled()
    const [call] = transcript.filter({ layer: 'hop', type: 'rpc' })
    const [result] = transcript.filter({ layer: 'hop', type: 'rpc-result' })
    const [frame] = transcript.filter({ layer: 'hop', type: 'frame' })
    expect(call!.args).toEqual([{ accessToken: '<redacted:accessToken>', user: 'octocat' }])
    expect(result!.value).toEqual({ githubToken: '<redacted:githubToken>', count: 1 })
    expect(JSON.stringify(transcript.events)).not.toMatch(/gho_secret1234|ghp_secret5678/)
    // Frames get the default rules only: a progress token is protocol, not a credential.
    expect(frame!.message).toEqual(message)
  })
})
