/**
 * The live dashboard's one page: inline CSS (report.html's, so the charts look the same) and a
 * small inline script that opens the WebSocket back to its own server and swaps in what each
 * message carries. Nothing is fetched: the server's Content-Security-Policy forbids it too.
 *
 * The script draws nothing itself: the charts come as SVG from the server (live-state.ts says why),
 * and the progress fields as text. It writes every number into data-* attributes
 * (`#progress`, `#ledger-summary`), where a test or a person's devtools can read them.
 */
import { CSS } from '../html/render-report.ts';
import { esc } from '../html/svg.ts';
import { LIVE_PATH } from './server.ts';

export interface DashboardPageInfo {
  readonly scenario: string;
  readonly seed: number;
  readonly speed: number;
  readonly devices: number;
  readonly mode: 'run' | 'observe';
}

const DASHBOARD_CSS = `
.verdict.LIVE { background: #2f6fd1; } .verdict.WAITING, .verdict.LOST { background: #5b6475; }
#status-text { color: var(--muted); margin: 4px 0 0; }
`;

/** Runs in the browser: keep it plain ES2020, no build step. */
const SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  let ended = false;
  let updates = 0;
  let retries = 0;
  const setData = (el, data) => { for (const [k, v] of Object.entries(data)) el.setAttribute('data-' + k, v === null ? '' : String(v)); };
  const status = (cls, label, text) => {
    const s = $('status');
    s.className = 'verdict ' + cls;
    s.textContent = label;
    $('status-text').textContent = text;
  };
  function show(m) {
    updates++;
    document.body.setAttribute('data-updates', String(updates));
    document.body.setAttribute('data-state', m.type);
    const dl = $('progress');
    dl.replaceChildren(...m.fields.flatMap(([k, v]) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; return [dt, dd]; }));
    setData(dl, m.numbers);
    if (m.charts) for (const k of ['alarms', 'pending', 'records', 'latency']) $('slot-' + k).innerHTML = m.charts[k];
    if (m.type === 'waiting') status('WAITING', 'WAITING', 'provisioning and warm-up: the timeline has not started');
    if (m.type === 'live') status('LIVE', 'LIVE', 'the run is going; this page updates once a second');
    if (m.final) {
      ended = true;
      const f = m.final, l = f.ledger;
      status(f.verdict, f.verdict, 'the run ended: ' + f.verdict + '. The full report: ' + f.runDir + '/report.html');
      const p = $('ledger-summary');
      p.textContent = l.expected + ' alarms expected: ' + l.onTime + ' on time, ' + l.lateAllowed + " late within a fault's allowance, " + l.late + ' late, ' + l.dropped + ' dropped, ' + l.duplicates + ' duplicate, ' + l.spurious + ' spurious. Positions: ' + f.records.stored + ' of ' + f.records.made + ' records stored.';
      setData(p, { verdict: f.verdict, expected: l.expected, 'on-time': l.onTime, late: l.late, 'late-allowed': l.lateAllowed, dropped: l.dropped, duplicates: l.duplicates, spurious: l.spurious, 'records-made': f.records.made, 'records-stored': f.records.stored });
      $('verdict-section').hidden = false;
    }
  }
  function connect() {
    const ws = new WebSocket('ws://' + location.host + '${LIVE_PATH}');
    ws.onopen = () => { retries = 0; };
    ws.onmessage = (e) => show(JSON.parse(e.data));
    ws.onclose = () => {
      if (ended) return;
      // The run went away without a verdict (stopped, crashed), or the connection broke: try again a few times.
      if (retries++ >= 10) return status('LOST', 'GONE', 'the run is gone: no verdict came (see its terminal)');
      status('LOST', 'RECONNECTING', 'connection lost; reconnecting');
      setTimeout(connect, 1000);
    };
  }
  connect();
})();
`;

export function dashboardPage(info: DashboardPageInfo): string {
  const facts: [string, string][] = [
    ['scenario', info.scenario], ['seed', String(info.seed)], ['speed', `${info.speed}× (virtual seconds per real second)`],
    ['devices', `${info.devices}${info.mode === 'observe' ? ' (observe mode: the load runs elsewhere)' : ''}`],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`Vigil live — ${info.scenario}`)}</title>
<style>${CSS}${DASHBOARD_CSS}</style></head>
<body data-state="connecting" data-updates="0">
<header>
<h1><span class="verdict WAITING" id="status">CONNECTING</span>${esc(info.scenario)} <small>live</small></h1>
<p id="status-text">connecting to the run</p>
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
</header>
<section id="verdict-section" hidden><h2>Verdict</h2><p id="ledger-summary"></p></section>
<section><h2>Progress</h2><dl class="facts" id="progress"></dl></section>
<section><h2>Alarms over time</h2><div id="slot-alarms"><p class="empty">Charts appear when the timeline starts.</p></div><div id="slot-pending"></div></section>
<section><h2>Records</h2><div id="slot-records"></div></section>
<section><h2>Latency</h2><div id="slot-latency"></div>
<p class="empty">While the run goes: every alarm seen so far, per kind. With the verdict: run.json's latency, outside fault windows and under a fault apart.</p></section>
<script>${SCRIPT}</script>
</body></html>
`;
}
