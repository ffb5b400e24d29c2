// Production answers an exception thrown by the Worker's fetch handler with Cloudflare's error 1101
// and shows the client no stack; `wrangler dev` answers with the stack and local paths. This wrapper,
// innermost around the Worker's default export, answers as production does and logs the stack with
// a marker the emulator turns into a transcript event (and a line on stderr).

const MARKER = '[mcp-harness:uncaught] '

function answer(error) {
  const detail = { name: String(error?.name ?? 'Error'), message: String(error?.message ?? error), stack: String(error?.stack ?? error) }
  console.error(MARKER + JSON.stringify(detail))
  return new Response('error code: 1101', { status: 500, headers: { 'content-type': 'text/plain; charset=UTF-8' } })
}

async function guarded(fetch, thisArg, args) {
  try {
    return await fetch.apply(thisArg, args)
  } catch (error) {
    return answer(error)
  }
}

export function wrapUncaught(worker) {
  if (typeof worker === 'function') {
    const original = worker.prototype?.fetch
    if (typeof original !== 'function') return worker
    return class extends worker {
      fetch(...args) {
        return guarded(original, this, args)
      }
    }
  }
  if (!worker || typeof worker !== 'object' || typeof worker.fetch !== 'function') return worker
  const wrapped = Object.create(worker)
  wrapped.fetch = function (...args) {
    return guarded(worker.fetch, worker, args)
  }
  return wrapped
}
