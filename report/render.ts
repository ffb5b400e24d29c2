/**
 * `renderReport`: one self-contained HTML file (inline CSS and script, no network) drawing a session
 * as a sequence diagram: lanes client · front door · Worker · hop · Durable Object · upstream.
 * Every drawn event is an element with `data-seq` and `data-layer`; clicking it shows its redacted
 * headers and body; replay and parity mismatches show recorded and received side by side.
 * @example writeFileSync('report.html', renderReport(emulator.transcript.events))
 */
import escapeHtml from 'escape-html'
import { stableJsonText } from './json.ts'
import { LANES, LANE_TITLES, toModel, type DrawnEvent, type Lane, type ReportModel } from './model.ts'


const LAYERS = ['client', 'hop', 'lifecycle', 'upstream', 'harness'] as const

const laneIndex = (lane: Lane) => LANES.indexOf(lane)
const pct = (n: number) => `${((n / LANES.length) * 100).toFixed(4)}%`

/** JSON inside a <script> element: `<`, `>`, `&` and line separators escaped so no text can end the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

function drawEvent(event: DrawnEvent): string {
  const attrs = `class="ev k-${event.kind}" tabindex="0" data-seq="${event.seq}" data-layer="${escapeHtml(event.layer)}" data-type="${escapeHtml(event.type)}" data-kind="${event.kind}"${event.session ? ` data-session="${escapeHtml(event.session)}"` : ''}`
  let shape: string
  if (event.to) {
    const a = laneIndex(event.from)
    const b = laneIndex(event.to)
    const left = Math.min(a, b) + 0.5
    shape = `<div class="arrow ${b > a ? 'ltr' : 'rtl'}" style="left:${pct(left)};width:${pct(Math.abs(b - a))}"><span class="label">${escapeHtml(event.label)}</span></div>`
  } else {
    shape = `<div class="mark" style="left:${pct(laneIndex(event.from) + 0.5)}"><span class="dot"></span><span class="label">${escapeHtml(event.label)}</span></div>`
  }
  const pair = event.mismatch
    ? `<div class="pair" data-seq="${event.seq}"><div class="pair-title">${escapeHtml(event.mismatch.title)}</div><div class="side"><h4>recorded</h4><pre class="recorded">${escapeHtml(stableJsonText(event.mismatch.recorded))}</pre></div><div class="side"><h4>received</h4><pre class="received">${escapeHtml(stableJsonText(event.mismatch.received))}</pre></div></div>`
    : ''
  return `<div ${attrs}><span class="t">${event.t.toFixed(1)}</span><div class="track">${shape}</div></div>${pair}`
}

const CSS = `
[hidden]{display:none!important}*{box-sizing:border-box}body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#1d2433;background:#fff}
header{padding:10px 16px;border-bottom:1px solid #d8dce3;position:sticky;top:0;background:#fff;z-index:3}
h1{font-size:16px;margin:0 0 4px}.summary{color:#555;margin:0 0 6px;font-size:12px}
.filters{display:flex;gap:14px;flex-wrap:wrap;align-items:center}.filters label{white-space:nowrap}
.legend{display:flex;gap:10px;flex-wrap:wrap;font-size:11px;margin-top:6px}.legend span::before{content:'';display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px;background:var(--c)}
.lanes,.ev{display:grid;grid-template-columns:64px 1fr}
.lanes{position:sticky;top:var(--head,96px);background:#f4f6f9;border-bottom:1px solid #d8dce3;z-index:2}
.lanes .names{position:relative;height:26px}.lane{position:absolute;transform:translateX(-50%);top:4px;font-weight:600;white-space:nowrap}
.diagram{position:relative}.line{position:absolute;top:0;bottom:0;width:0;border-left:1px dashed #b8c0cc;z-index:0}
.ev{position:relative;cursor:pointer;z-index:1}.ev:hover,.ev:focus{background:#eef3ff;outline:none}.ev.selected{background:#dfe8ff}
.ev .t{font:11px ui-monospace,monospace;color:#777;text-align:right;padding:5px 6px 0 0}
.track{position:relative;height:24px}
.arrow{position:absolute;top:15px;height:2px;background:var(--c,#3a5bc7)}
.arrow::after{content:'';position:absolute;top:-4px;border:5px solid transparent}
.arrow.ltr::after{right:-2px;border-left:7px solid var(--c,#3a5bc7);border-right:0}
.arrow.rtl::after{left:-2px;border-right:7px solid var(--c,#3a5bc7);border-left:0}
.arrow .label{position:absolute;bottom:3px;left:0;right:0;text-align:center;font-size:11px;white-space:nowrap;overflow:visible;color:#1d2433}
.mark{position:absolute;top:6px}.mark .dot{position:absolute;left:-6px;top:3px;width:12px;height:12px;border-radius:50%;background:var(--c,#888);border:2px solid #fff;box-shadow:0 0 0 1px var(--c,#888)}
.mark .label{position:absolute;left:10px;top:1px;font-size:11px;white-space:nowrap;background:rgba(255,255,255,.85);padding:0 3px;border-radius:3px}
.k-message{--c:#3a5bc7}.k-sse{--c:#1f9d8b}.k-end{--c:#9aa3b2}.k-eviction{--c:#d97706}.k-wake{--c:#16a34a}.k-crash{--c:#b91c1c}.k-fault{--c:#c026d3}.k-timeout{--c:#ea580c}.k-cors{--c:#0891b2}.k-error{--c:#dc2626}.k-note{--c:#6b7280}.k-mismatch{--c:#dc2626}
.ev.k-mismatch{background:#fde8e8}.ev.k-mismatch .label{font-weight:700;color:#991b1b}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:2px 16px 10px 64px;padding:8px;border:2px solid #dc2626;border-radius:6px;background:#fff7f7}
.pair-title{grid-column:1/3;font-weight:600;color:#991b1b}.pair h4{margin:0 0 2px;font-size:11px;text-transform:uppercase;color:#555}
.pair pre,#detail pre{margin:0;font:11px/1.35 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;max-height:320px;overflow:auto;background:#fff;border:1px solid #e2e5ea;padding:6px}
.pair .recorded{border-color:#16a34a}.pair .received{border-color:#dc2626}
#detail{position:fixed;right:0;top:0;bottom:0;width:min(520px,45vw);background:#fbfcfe;border-left:1px solid #d8dce3;padding:12px;overflow:auto;z-index:5;box-shadow:-4px 0 12px rgba(0,0,0,.06)}
#detail[hidden]{display:none}#detail h2{font-size:14px;margin:0 0 8px}#detail button{float:right}
.empty{padding:24px;color:#777}
`

// The page's script: filters and the detail panel. It reads the embedded JSON and writes only textContent.
const SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var bySeq = {};
  var panel = document.getElementById('detail'), title = document.getElementById('detail-title'), body = document.getElementById('detail-body');
  var diagram = document.querySelector('.diagram');
  var session = document.getElementById('session');
  var layers = Array.prototype.slice.call(document.querySelectorAll('input[name=layer]'));
  function rows(){ return Array.prototype.slice.call(document.querySelectorAll('.ev')); }
  function show(row){
    rows().forEach(function(r){ r.classList.remove('selected'); });
    row.classList.add('selected');
    var e = bySeq[row.getAttribute('data-seq')];
    title.textContent = '#' + e.seq + ' · ' + e.t.toFixed(1) + ' ms · ' + e.layer + ' · ' + e.label;
    var shown = { layer: e.layer, session: e.session, detail: e.detail };
    if (e.mismatch) shown.mismatch = e.mismatch;
    body.textContent = JSON.stringify(shown, null, 2);
    panel.hidden = false;
  }
  function visible(r){
    var s = session.value, rs = r.getAttribute('data-session'), on = true;
    layers.forEach(function(l){ if (l.value === r.getAttribute('data-layer') && !l.checked) on = false; });
    return on && (s === '' || !rs || rs === s);
  }
  function apply(){
    rows().forEach(function(r){
      r.hidden = !visible(r);
      var next = r.nextElementSibling;
      if (next && next.classList.contains('pair')) next.hidden = r.hidden;
    });
  }
  function add(events){
    events.forEach(function(e){
      bySeq[e.seq] = e;
      if (e.session && !Array.prototype.some.call(session.options, function(o){ return o.value === e.session; })) {
        var option = document.createElement('option'); option.value = e.session; option.textContent = e.session; session.appendChild(option);
      }
    });
  }
  add(data.events);
  diagram.addEventListener('click', function(ev){ var row = ev.target.closest('.ev'); if (row) show(row); });
  diagram.addEventListener('keydown', function(ev){
    var row = ev.target.closest('.ev'); if (row && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); show(row); }
  });
  document.getElementById('detail-close').addEventListener('click', function(){ panel.hidden = true; });
  session.addEventListener('change', apply);
  layers.forEach(function(l){ l.addEventListener('change', apply); });
  var head = document.querySelector('header');
  document.documentElement.style.setProperty('--head', head.offsetHeight + 'px');
  // The live view appends rows the server drew (escaped there) and their data.
  window.mcpHarnessReport = { append: function(html, events){
    var empty = diagram.querySelector('.empty'); if (empty) empty.remove();
    var box = document.createElement('div'); box.innerHTML = html;
    var fresh = Array.prototype.slice.call(box.children);
    fresh.forEach(function(el){ diagram.appendChild(el); if (el.classList.contains('ev')) el.hidden = !visible(el); });
    add(events);
    document.body.setAttribute('data-events', String(diagram.querySelectorAll('.ev').length));
  } };
})();
`

const LEGEND: [string, string][] = [
  ['message', 'request / response'],
  ['sse', 'SSE event'],
  ['eviction', 'eviction'],
  ['wake', 'wake'],
  ['crash', 'crash / restart'],
  ['fault', 'fault'],
  ['timeout', 'timeout'],
  ['cors', 'CORS verdict'],
  ['error', 'error status'],
  ['mismatch', 'mismatch'],
]

/** The rows of drawn events and the data their detail panel shows (what the live view appends). */
export function renderRows(events: DrawnEvent[]): { html: string; events: Record<string, unknown>[] } {
  return { html: events.map(drawEvent).join('\n'), events: events.map(({ seq, t, layer, type, label, session, detail, mismatch }) => ({ seq, t, layer, type, label, session, detail, mismatch })) }
}

// The live view's poller: asks for the events after the last one it has, every 500 ms.
const LIVE_SCRIPT = `
(function(){
  var token = new URLSearchParams(location.search).get('token') || '';
  var next = Number(document.body.getAttribute('data-next'));
  var status = document.getElementById('live-status');
  function poll(){
    fetch('/ui/events?since=' + next + '&token=' + encodeURIComponent(token), { cache: 'no-store' })
      .then(function(r){ if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function(update){
        if (update.reset) return location.reload();
        if (update.events.length) window.mcpHarnessReport.append(update.html, update.events);
        next = update.next; status.textContent = 'live · ' + next + ' events';
      })
      .catch(function(error){ status.textContent = 'live view disconnected: ' + error.message; })
      .then(function(){ setTimeout(poll, 500); });
  }
  setTimeout(poll, 500);
})();
`

/** Options of `renderModel`. */
export interface RenderOptions {
  /** Serve as the live view: poll `/ui/events` from this transcript position on. */
  live?: { next: number }
}

/** The HTML page for a model (see `toModel` for the inputs a model is built from). */
export function renderModel(model: ReportModel, options: RenderOptions = {}): string {
  const sessions = model.sessions.map((s) => `<option value="${escapeHtml(s)}">${escapeHtml(s)}</option>`).join('')
  const layers = LAYERS.map((l) => `<label><input type="checkbox" name="layer" value="${l}" checked> ${l}</label>`).join('')
  const lines = LANES.map((_, i) => `<div class="line" style="left:calc(64px + (100% - 64px) * ${(i + 0.5) / LANES.length})"></div>`).join('')
  const names = LANES.map((lane, i) => `<div class="lane" data-lane="${lane}" style="left:${pct(i + 0.5)}">${escapeHtml(LANE_TITLES[lane])}</div>`).join('')
  const mismatches = model.events.filter((e) => e.mismatch).length
  const drawn = renderRows(model.events)
  const rows = drawn.html
  const data = { source: model.source, events: drawn.events }
  const live = options.live
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'${live ? "; connect-src 'self'" : ''}">
<title>mcp-harness report · ${escapeHtml(model.title)}</title><style>${CSS}</style></head>
<body data-source="${model.source}" data-events="${model.events.length}" data-mismatches="${mismatches}"${live ? ` data-next="${live.next}"` : ''}>
<header><h1>mcp-harness report · ${escapeHtml(model.title)}${live ? ' <small id="live-status">live</small>' : ''}</h1>
<p class="summary">${model.summary.map((line) => escapeHtml(line)).join('<br>')}${mismatches ? `<br><strong style="color:#991b1b">${mismatches} mismatch(es), highlighted below</strong>` : ''}</p>
<div class="filters"><label>session <select id="session"><option value="">all sessions</option>${sessions}</select></label>${layers}</div>
<div class="legend">${LEGEND.map(([kind, text]) => `<span class="k-${kind}">${escapeHtml(text)}</span>`).join('')}</div></header>
<div class="lanes"><div></div><div class="names">${names}</div></div>
<main class="diagram">${lines}
${rows || '<div class="empty">No events.</div>'}
</main>
<aside id="detail" hidden><button id="detail-close" type="button">close</button><h2 id="detail-title"></h2><pre id="detail-body"></pre></aside>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>${live ? `<script>${LIVE_SCRIPT}</script>` : ''}
</body></html>
`
}

/**
 * The report for a transcript (events array or `{ events }`), a cassette, `{ cassette, mismatches }`
 * (a replay's mismatches) or a parity result (`mcp-harness parity --json`).
 * @example renderReport(JSON.parse(readFileSync('recordings/cassettes/sdk/hibernation.json', 'utf8')))
 */
export function renderReport(input: unknown): string {
  return renderModel(toModel(input))
}
