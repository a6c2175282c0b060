// The findings: one card per finding, in the report's order (leaks first). A card answers, top to
// bottom, what a person on call asks: what grows (the site, file:line), how fast and how sure
// (growth, rate, confidence), how long until the limit, the evidence in words and as its own
// small chart, and the full symbolized stack to open in an editor (for a metrics finding, which has
// no stack, the metric family whose series keep growing).
import {lineChart} from './charts.js';
import {cssVar, h} from './dom.js';
import {fmtDuration, fmtLocation, fmtPercent, fmtRate, fmtSigned, fmtValue, isNum, maxValue} from './format.js';

const kKindLabel = {
  heap: 'heap',
  mmap: 'mmap',
  threads: 'threads',
  fds: 'descriptors',
  goroutines: 'goroutines',
  rss: 'RSS',
  metrics: 'metric',
};

export function verdictClass(v) {
  return ['leak', 'no-leak', 'retention', 'inconclusive'].includes(v) ? `v-${v}` : 'v-inconclusive';
}

function sameFrame(a, b) {
  return a && b && a.function === b.function && (a.file || '') === (b.file || '') && (a.line || 0) === (b.line || 0);
}

function stackList(f) {
  const frames = Array.isArray(f.stack) ? f.stack : [];
  if (!frames.length) return h('p', {class: 'empty'}, 'No stack recorded for this finding.');
  return h(
    'ol',
    {class: 'stack'},
    frames.map((fr) =>
      h(
        'li',
        {class: sameFrame(fr, f.site) ? 'site' : null},
        h('span', {class: 'fn'}, fr.function || '??'),
        fmtLocation(fr) ? h('span', {class: 'loc'}, fmtLocation(fr)) : null,
      ),
    ),
  );
}

// Where a stack would be: the metric family a metrics finding is about.
function metricBlock(f) {
  return h(
    'div',
    {class: 'metric-family'},
    h('span', {class: 'stat-label'}, 'metric family'),
    h('code', {class: 'fn'}, f.metric),
    h('p', {class: 'empty'}, "Series counted in the target's /metrics at every snapshot: a label with unbounded values (a raw path, an id) makes a new series per value."),
  );
}

// The pattern catalogue's reading of the finding: likely cause, what to change, and the evidence
// that matched; for a leak no pattern explains, says so. Nothing for other findings without one.
function patternBlock(f) {
  const p = f.pattern;
  if (!p || !p.id || (p.id === 'none' && f.verdict !== 'leak')) return null;
  if (p.id === 'none') return h('p', {class: 'pattern none'}, `No known pattern matched: ${p.evidence}`);
  return h(
    'div',
    {class: 'pattern'},
    h('div', null, h('span', {class: 'stat-label'}, 'likely cause '), h('code', {class: 'pattern-id'}, p.id), ` ${p.cause}`),
    p.fix ? h('div', null, h('span', {class: 'stat-label'}, 'what to change '), p.fix) : null,
    h('div', {class: 'pattern-evidence'}, h('span', {class: 'stat-label'}, 'matched '), p.evidence),
  );
}

function stat(label, value, cls, title) {
  return h('div', {class: `stat ${cls || ''}`, title: title || null}, h('div', {class: 'stat-label'}, label), h('div', {class: 'stat-value'}, value));
}

const kConfidenceHelp =
  'How sure the judge is that this series grows under load and stays: from the trend tests (Mann-Kendall over the load and its second half) and the noise floor. Not a probability of a leak.';

// An inconclusive finding has no confidence to speak of; its evidence says what is missing.
function confidenceStat(f, verdict) {
  if (verdict === 'inconclusive') return stat('confidence', '—', '', 'Inconclusive: the data cannot tell, so no confidence is given.');
  return stat('confidence', fmtPercent(f.confidence), '', kConfidenceHelp);
}

const isUnsymbolized = (fn) => typeof fn === 'string' && /^0x[0-9a-f]+$|\+0x[0-9a-f]+$/i.test(fn);

// What to do next, for the findings that cannot be acted on as they stand.
function nextStep(report, f, verdict) {
  const site = f.site || {};
  const go = (report.target || {}).source === 'pprof';
  if (isUnsymbolized(site.function)) {
    const m = /^(.+)\+(0x[0-9a-f]+)$/i.exec(site.function);
    const where = m ? ` Its name is the file and the offset in it, the same in every run: addr2line -f -e ${m[1]} ${m[2]} on the unstripped build names it.` : '';
    return `Next step: this frame has no symbols. Install its debug info (a -dbgsym package: it is looked for under /usr/lib/debug/.build-id/), or rebuild with -g, and run again (the saved snapshots in snapshots/ open in pprof, which symbolizes them with the same debug info).${where}`;
  }
  if (verdict !== 'inconclusive') return null;
  return `Next step: give it more evidence: a longer load (at least 8 snapshots of it), load in rounds, or a finer sampling rate (${go ? 'runtime.MemProfileRate in the program' : '--rate 4K'}); then run again.`;
}

function forecastText(f) {
  if (isNum(f.forecast_s_to_limit)) return `limit in ${fmtDuration(f.forecast_s_to_limit)}`;
  return f.unit === 'bytes' && f.verdict === 'leak' ? 'no limit known' : '—';
}

// Returns {node, draw}: draw() builds the finding's small chart once the node is in the document.
export function findingCard(report, f, index) {
  const site = f.site || {};
  const unit = f.unit || 'count';
  const hasSeries = f.series && Array.isArray(f.series.t_s) && Array.isArray(f.series.values) && maxValue(f.series.values) !== null;
  const host = hasSeries ? h('div', {class: 'chart-host small'}) : null;
  const verdict = f.verdict || 'inconclusive';
  const node = h(
    'article',
    {class: `finding ${verdictClass(verdict)}${f.suppressed ? ' suppressed' : ''}`, id: `finding-${index + 1}`},
    h(
      'header',
      null,
      h('span', {class: `badge ${verdictClass(verdict)}`}, verdict),
      h('span', {class: 'chip'}, kKindLabel[f.kind] || f.kind || '?'),
      f.suppressed ? h('span', {class: 'chip suppressed-chip', title: 'Matched a suppression: known and accepted'}, 'suppressed') : null,
      h('h3', {class: 'site'}, site.function || f.metric || `${kKindLabel[f.kind] || f.kind || 'signal'} (no call site: no stacks)`),
      fmtLocation(site) ? h('span', {class: 'loc'}, fmtLocation(site)) : null,
    ),
    h(
      'div',
      {class: 'stats'},
      stat('growth', fmtSigned(f.growth, unit), 'strong'),
      stat('rate', fmtRate(f.growth_per_s, unit)),
      confidenceStat(f, verdict),
      stat('time to limit', forecastText(f), isNum(f.forecast_s_to_limit) ? 'warn' : ''),
    ),
    f.evidence ? h('p', {class: 'evidence'}, f.evidence) : null,
    patternBlock(f),
    nextStep(report, f, verdict) ? h('p', {class: 'next-step'}, nextStep(report, f, verdict)) : null,
    host,
    f.metric
      ? metricBlock(f)
      : h('details', {class: 'stack-details', open: index === 0 && verdict === 'leak'},
          h('summary', null, `Stack (${(f.stack || []).length} frames, leaf first)`), stackList(f)),
  );
  const draw = (width) => {
    if (!hasSeries) return null;
    return lineChart(host, {
      t: f.series.t_s,
      width,
      phases: report.phases || [],
      height: 120,
      compact: true,
      format: (v) => fmtValue(v, unit),
      lines: [{label: site.function || f.metric || f.kind, values: f.series.values, color: cssVar(verdict === 'leak' ? '--bad' : '--c-rss')}],
    });
  };
  return {node, draw, host};
}
