import '../core/node-version.ts'

/* The doctor: probes a Worker (or a running URL) and a client config for the known failures. */
export { runDoctor } from './doctor.ts'
export { checkClientConfig } from './client-config.ts'
export { formatReport } from './format.ts'
export { DoctorOptionsSchema, FindingSchema, DoctorReportSchema } from './types.ts'
export type { DoctorOptions, DoctorReport, Finding, FindingStatus } from './types.ts'
export type { DoctorUse } from './doctor.ts'
export type { ServerEndpoints } from './client-config.ts'
