/**
 * `vigil compare --html <file>`: the terminal's comparison as one self-contained HTML page (inline
 * style, no script, nothing fetched), to attach to a go / no-go decision or print.
 */
import { fmtDelta, fmtValue, type Comparison } from './compare.ts';
import { comparisonVerdict, runLine } from './compare-text.ts';
import { esc } from './html/svg.ts';


const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}tr.section th{text-align:left;background:#f3f3f3}
tr.worse td{background:#fde2e2}td.why{text-align:left;color:#a00}.verdict{font-weight:bold}
.verdict.worse{color:#a00}.verdict.ok{color:#060}`;

export function compareHtml(c: Comparison): string {
  const s = c.a.scenario;
  const rows = c.sections.flatMap((sec) => [
    `<tr class="section"><th colspan="5">${esc(sec.title)}</th></tr>`,
    ...sec.rows.map((r) => `<tr${r.worse ? ' class="worse"' : ''}><td>${esc(r.label)}</td><td>${esc(fmtValue(r, r.a))}</td><td>${esc(fmtValue(r, r.b))}</td><td>${esc(fmtDelta(r))}</td><td class="why">${r.worse ? esc(r.worse) : ''}</td></tr>`),
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`vigil compare: ${s.name} seed ${s.seed}`)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(s.name)}, seed ${s.seed}: B against A</h1>
<p>${s.devices} devices, ${esc(s.start)} &rarr; ${esc(s.end)}</p>
<p>A: ${esc(runLine(c.a))}<br>B: ${esc(runLine(c.b))}</p>
${c.differences.length > 0 ? `<p>Differ: ${c.differences.map(esc).join('; ')}</p>` : ''}
<table>
<thead><tr><th></th><th>A</th><th>B</th><th>B &minus; A</th><th></th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p class="verdict ${c.worse.length === 0 ? 'ok' : 'worse'}">${esc(comparisonVerdict(c))}</p>
${c.worse.length > 0 ? `<ul>${c.worse.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
