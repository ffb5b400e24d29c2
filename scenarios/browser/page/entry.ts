// The browser page's script: exposes the same runner the Node scenarios use.
import { probeSessionHeader, runMcp } from './run-mcp.ts'

;(globalThis as unknown as Record<string, unknown>).mcpHarness = { runMcp, probeSessionHeader }
