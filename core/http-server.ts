import type { Server } from 'node:http'

/**
 * Leaves closing idle keep-alive connections to the client (undici closes them after 4 s, httpx
 * after 5 s; the server destroys what is left when it stops). A test's client often shares the
 * server's event loop: after that loop stalls (a debugger pause, seconds of synchronous work), a
 * server-side idle timer fires first and closes the connection the client is writing its next
 * request on, which fails with ECONNRESET (every time after a 6 s stall with Node's 5 s default;
 * see scenarios/protocol/keep-alive.test.ts). With 0, Node sends no `Keep-Alive: timeout` hint and
 * sets no idle timer.
 */
export function leaveIdleConnectionsToClients(server: Server): void {
  server.keepAliveTimeout = 0
}
