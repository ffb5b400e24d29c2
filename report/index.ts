/**
 * Reports: one self-contained HTML file drawing a session (transcript, cassette, replay mismatches or
 * parity result) as a sequence diagram. Builds on `core/` and the cassette format only.
 * @example writeFileSync('report.html', renderReport(JSON.parse(readFileSync('cassette.json', 'utf8'))))
 */
export { renderReport, renderModel, renderRows, type RenderOptions } from './render.ts'
export { createLiveView, type LiveViewResponse } from './live.ts'
export { cassetteEvents, cassetteModel, parityModel, toModel, transcriptModel, LANES, LANE_TITLES } from './model.ts'
export type { DrawnEvent, EventKind, Lane, ReportInput, ReportMismatch, ReportModel, ParityResultInput } from './model.ts'
export { reportOnFailure, reportMode, writeReportFile, type ReportMode, type ReportOnFailureOptions } from './on-failure.ts'
