// The leakscope report page. It draws everything from the report.json embedded in the page
// (<script type="application/json" id="leakscope-report">), the same document the text report and
// `--json` come from, so the three can never disagree. Sections: the verdict and headline figures,
// the series over time, the findings, and two flame graphs.
//
// When it is done the page marks <html> with data-rendered="ok" (or "error") and counts what it
// drew (data-charts, data-flames, data-findings), and a component that failed says so in place and
// on the console: the headless-browser test reads those marks, and a person still gets every other
// section when one fails.
import './style.css';
import {chartFrame, keepSized, timelineCharts} from './charts.js';
import {h, resetTheme, section} from './dom.js';
import {findingCard, verdictClass} from './findings.js';
import {flamePanel} from './flame.js';
import {firstValue, fmtBytes, fmtCount, fmtDuration, fmtSigned, isNum, lastValue} from './format.js';

const kHeadline = {
  leak: 'Leak found',
  'no-leak': 'No leak found',
  retention: 'Retention, not a leak',
  inconclusive: 'Inconclusive',
};

function readReport() {
  const el = document.getElementById('leakscope-report');
  if (!el) throw new Error('no embedded report (script#leakscope-report)');
  return JSON.parse(el.textContent);
}

function targetLine(r) {
  const t = r.target || {};
  const parts = [];
  if (Array.isArray(t.command) && t.command.length) parts.push(h('code', null, t.command.join(' ')));
  else if (t.url) parts.push(h('code', null, t.url));
  if (isNum(t.pid)) parts.push(`pid ${t.pid}`);
  if (t.source) parts.push(`via ${t.source}`);
  if (r.started_at) parts.push(`started ${r.started_at.replace('T', ' ')}`);
  if (isNum(r.duration_s)) parts.push(`${fmtDuration(r.duration_s)}${isNum(r.interval_s) ? `, a snapshot every ${fmtDuration(r.interval_s)}` : ''}`);
  const out = [];
  parts.forEach((p, i) => out.push(i ? h('span', {class: 'sep'}, ' · ') : null, p));
  return h('p', {class: 'target'}, out);
}

const kConfidenceNote =
  'Confidence: how sure the judge is that a series grows under load and stays (trend tests over the load and its second half, against the noise floor of the sampling); not a probability of a leak. Inconclusive findings carry none: their evidence says what is missing.';

// Big figures for the series the report has: now, and the change since the first snapshot.
function tiles(r) {
  const s = r.series || {};
  const defs = [
    ['rss_bytes', 'RSS', fmtBytes, 'bytes'],
    ['heap_inuse_bytes', (r.target || {}).source === 'pprof' ? 'Live heap (Go)' : 'Live heap', fmtBytes, 'bytes'],
    ['threads', 'Threads', fmtCount, 'count'],
    ['fds', 'Descriptors', fmtCount, 'count'],
    ['goroutines', 'Goroutines', fmtCount, 'count'],
  ];
  const out = [];
  for (const [key, label, fmt, unit] of defs) {
    const last = lastValue(s[key]);
    if (last === null) continue;
    const delta = last - firstValue(s[key]);
    out.push(h('div', {class: 'tile'}, h('div', {class: 'tile-label'}, label), h('div', {class: 'tile-value'}, fmt(last)),
      h('div', {class: `tile-delta ${delta > 0 ? 'up' : ''}`}, `${fmtSigned(delta, unit)} since start`)));
  }
  if (isNum(r.limit_bytes)) {
    out.push(h('div', {class: 'tile'}, h('div', {class: 'tile-label'}, 'Memory limit'), h('div', {class: 'tile-value'}, fmtBytes(r.limit_bytes)),
      h('div', {class: 'tile-delta'}, r.limit_source ? `from ${r.limit_source}` : '')));
  }
  const soonest = (r.findings || []).filter((f) => isNum(f.forecast_s_to_limit) && !f.suppressed)
    .sort((a, b) => a.forecast_s_to_limit - b.forecast_s_to_limit)[0];
  if (soonest) {
    out.push(h('div', {class: 'tile warn'}, h('div', {class: 'tile-label'}, 'Limit reached in'),
      h('div', {class: 'tile-value'}, `~${fmtDuration(soonest.forecast_s_to_limit)}`),
      h('div', {class: 'tile-delta'}, `at the rate of ${soonest.site?.function || soonest.kind}`)));
  }
  return h('div', {class: 'tiles'}, out);
}

function header(r) {
  const verdict = r.verdict || 'inconclusive';
  const leaks = (r.findings || []).filter((f) => f.verdict === 'leak' && !f.suppressed).length;
  return h(
    'header',
    {class: `top ${verdictClass(verdict)}`},
    h('div', {class: 'brand'}, 'leakscope report'),
    h('div', {class: 'verdict-row'}, h('span', {class: `verdict ${verdictClass(verdict)}`}, kHeadline[verdict] || verdict),
      leaks ? h('span', {class: 'verdict-count'}, `${leaks} leaking site${leaks > 1 ? 's' : ''}`) : null),
    r.summary ? h('p', {class: 'summary'}, r.summary) : null,
    targetLine(r),
    tiles(r),
  );
}

// Runs one component; a failure is shown in place and logged, and the page goes on.
function guarded(state, name, host, fn) {
  try {
    return fn();
  } catch (err) {
    state.errors.push(`${name}: ${err && err.message}`);
    console.error(`leakscope report: ${name} failed`, err);
    host.append(h('p', {class: 'error'}, `Could not draw ${name}: ${err && err.message}`));
    return null;
  }
}

// Builds every section first and draws afterwards: the charts and flame graphs need their widths,
// and measuring all hosts in one pass costs one layout instead of one per chart.
function render(app, r, state) {
  const mark = (name) => state.marks.push(`${name}:${Math.round(performance.now())}`);
  const charts = [];
  const flames = [];
  const pending = [];  // {name, host, errorHost, draw(width), kind: 'chart' | 'flame'}
  app.append(header(r));
  if (r.schema && !String(r.schema).startsWith('leakscope.report/')) {
    app.append(h('p', {class: 'error'}, `Unknown schema "${r.schema}": drawing what can be read.`));
  }

  const timeline = timelineCharts(r);
  const wide = h('div', {class: 'chart-wide'});
  const grid = h('div', {class: 'chart-grid'});
  const phases = (r.phases || []).filter((p) => p.name !== 'watch').map((p) => `${p.name} ${fmtDuration(p.end_s - p.start_s)}`);
  app.append(section('timeline', 'Over time', phases.length ? phases.join(' · ') : null,
    timeline.length ? [wide, grid] : h('p', {class: 'empty'}, 'No series in this report.')));
  for (const c of timeline) {
    const {node, host} = chartFrame(c.title, c.caption);
    (c.wide ? wide : grid).append(node);
    pending.push({name: `chart ${c.title}`, host, errorHost: host, kind: 'chart', draw: (w) => c.draw(host, w)});
  }

  const findings = r.findings || [];
  const list = h('div', {class: 'findings'});
  const shown = findings.filter((f) => f.verdict === 'leak').length;
  app.append(section('findings', 'Findings', findings.length ? `${shown} leak${shown === 1 ? '' : 's'} of ${findings.length} examined` : null,
    findings.length ? h('p', {class: 'legend-note'}, kConfidenceNote) : null,
    findings.length ? list : h('p', {class: 'empty'}, 'Nothing was examined beyond the series above.')));
  findings.forEach((f, i) => {
    const card = guarded(state, `finding ${i + 1}`, list, () => findingCard(r, f, i));
    if (!card) return;
    list.append(card.node);
    if (card.host) pending.push({name: `finding ${i + 1} chart`, host: card.host, errorHost: card.node, kind: 'chart', draw: card.draw});
  });

  for (const [kind, title, sub] of [
    ['growth', 'Where the growth was allocated', 'in-use bytes added between the end of the baseline and the end of the run; click a frame to zoom'],
    ['final', 'Live heap at the end', 'every live allocation at the last snapshot; click a frame to zoom'],
  ]) {
    const panel = guarded(state, `flame graph ${kind}`, app, () => flamePanel(r, kind));
    if (!panel) continue;
    app.append(section(`flame-${kind}`, title, sub, panel.node));
    if (!panel.empty) pending.push({name: `flame graph ${kind}`, host: panel.host, errorHost: panel.node, kind: 'flame', draw: panel.draw});
  }

  const notes = r.notes || [];
  app.append(h('footer', null,
    notes.length ? h('ul', {class: 'notes'}, notes.map((n) => h('li', null, n))) : null,
    h('p', null, `${(r.snapshots || []).length} snapshots · schema ${r.schema || '?'} · rendered from the report.json embedded in this page`)));
  mark('built');

  const widths = pending.map((p) => p.host.clientWidth);
  pending.forEach((p, i) => {
    const drawn = guarded(state, p.name, p.errorHost, () => p.draw(widths[i]));
    if (!drawn) return;
    if (p.kind === 'chart') charts.push({chart: drawn, host: p.host});
    else flames.push(drawn);
  });
  mark('drawn');

  state.expectedCharts = pending.filter((p) => p.kind === 'chart').length;
  state.expectedFlames = pending.filter((p) => p.kind === 'flame').length;
  state.charts = charts.length;
  state.flames = flames.length;
  state.findings = findings.length;
  const observer = keepSized(charts);
  let frame = 0;
  const onResize = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => flames.forEach((f) => f.resize()));
  };
  window.addEventListener('resize', onResize);
  // What the next render (a theme change) must undo first, so that re-rendering replaces the
  // page's observers and listeners instead of adding to them.
  state.teardown = () => {
    observer.disconnect();
    window.removeEventListener('resize', onResize);
    cancelAnimationFrame(frame);
    for (const {chart} of charts) chart.destroy();
  };
}

// The page's listeners and observers, from the render now shown (invariant: at most one render's
// worth is ever attached; main() runs teardown before drawing again).
let teardown = null;
let renders = 0;

function main() {
  const t0 = performance.now();
  const root = document.documentElement;
  const app = document.getElementById('app');
  if (teardown) teardown();
  teardown = null;
  app.textContent = '';
  resetTheme();
  const state = {errors: [], charts: 0, flames: 0, findings: 0, expectedCharts: 0, expectedFlames: 0, marks: [], teardown: null};
  try {
    const r = readReport();
    state.marks.push(`parsed:${Math.round(performance.now())}`);
    document.title = `${kHeadline[r.verdict] || 'leakscope'} — ${r.summary || 'leakscope report'}`;
    render(app, r, state);
  } catch (err) {
    state.errors.push(String(err && err.message));
    console.error('leakscope report: cannot read the report', err);
    app.append(h('p', {class: 'error'}, `This report cannot be shown: ${err && err.message}`));
  }
  root.dataset.charts = `${state.charts}/${state.expectedCharts}`;
  root.dataset.flames = `${state.flames}/${state.expectedFlames}`;
  root.dataset.findings = String(state.findings);
  teardown = state.teardown;
  renders += 1;
  root.dataset.renders = String(renders);
  root.dataset.renderMs = String(Math.round(performance.now() - t0));
  root.dataset.marks = `start:${Math.round(t0)} ${state.marks.join(' ')}`;
  const complete = !state.errors.length && state.charts === state.expectedCharts && state.flames === state.expectedFlames;
  root.dataset.rendered = complete ? 'ok' : 'error';
  if (state.errors.length) root.dataset.errors = state.errors.join('; ');
}

main();
// Colours come from CSS variables read at draw time: redraw when the system theme changes.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', main);
