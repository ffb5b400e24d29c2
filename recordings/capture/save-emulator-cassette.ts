import path from 'node:path'
import type { Emulator } from '../../emulator/emulator.ts'
import type { CassetteSaveRequest } from '../../emulator/control/schema.ts'
import { buildCassette } from '../format/normalize.ts'
import { saveCassette as save } from '../persist/fs.ts'
import { sessionFromTranscript } from './emulator-tap.ts'

/** Saves an emulator's transcript as a cassette: what the control plane's `POST /v1/cassettes` does. */
export async function saveEmulatorCassette(emulator: Emulator, request: CassetteSaveRequest): Promise<{ path: string; interactions: number }> {
  // The hop tap's reports reach Node a little after the answers: sessions and hop steps need them all.
  await emulator.settled()
  const kinds = new Set(emulator.sessions().map((session) => session.transport))
  const transport = request.transport ?? (kinds.size > 1 ? 'mixed' : kinds.has('sse') ? 'sse' : kinds.has('streamable-http') ? 'streamable-http' : 'other')
  const cassette = buildCassette(sessionFromTranscript(emulator.transcript.events), {
    client: request.client,
    scenario: request.scenario,
    transport,
    recordedWith: 'emulator',
    ...(request.rerecord ? { rerecord: request.rerecord } : {}),
  })
  const file = path.resolve(request.path)
  await save(file, cassette)
  return { path: file, interactions: cassette.interactions.length }
}

