// Time-series charts (uPlot: canvas, fast with thousands of points). One chart per signal family:
// memory (RSS, PSS, live heap, mmap) in bytes with the memory limit drawn when it is known, then
// one chart per count (threads, descriptors, goroutines). Every chart shades the run's phases
// (baseline, load, cooldown) behind the lines, so "grew under load and did not come back" is
// something the eye sees, and all charts share one cursor so a moment lines up across them.
//
// The limit is drawn only when it is within reach of the data (kLimitReach times the peak); a
// 2 GiB limit over a 40 MiB service would flatten every line to the floor, so it is named in the
// chart's caption instead.
import uPlot from 'uplot';
import {cssVar, h} from './dom.js';
import {fmtBytes, fmtClock, fmtCount, isNum, maxValue} from './format.js';

const kLimitReach = 4;
const kSyncKey = 'leakscope';

export const kMemorySeries = [
  {key: 'rss_bytes', label: 'RSS', color: '--c-rss', width: 2},
  {key: 'pss_bytes', label: 'PSS', color: '--c-pss', width: 1.25, dash: [6, 4]},
  {key: 'heap_inuse_bytes', label: 'Live heap (agent estimate)', color: '--c-heap', width: 2},
  {key: 'mmap_bytes', label: 'mmap', color: '--c-mmap', width: 1.5},
];
export const kCountSeries = [
  {key: 'threads', label: 'Threads', color: '--c-threads'},
  {key: 'fds', label: 'Open descriptors', color: '--c-fds'},
  {key: 'goroutines', label: 'Goroutines', color: '--c-goroutines'},
];

const kPhaseColor = {
  baseline: '--phase-baseline',
  load: '--phase-load',
  cooldown: '--phase-cooldown',
  watch: '--phase-watch',
};

// Draws the phase bands under the plot and their names along the top edge.
function phasePlugin(phases) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const {ctx} = u;
          const {top, height} = u.bbox;
          const dpr = uPlot.pxRatio;
          const labelled = phases.length > 1;
          ctx.save();
          // Setting a font makes the canvas resolve it: only when there are names to write.
          if (labelled) {
            ctx.font = `${11 * dpr}px ${cssVar('--font-ui')}`;
            ctx.textBaseline = 'top';
          }
          for (const p of phases) {
            if (!isNum(p.start_s) || !isNum(p.end_s)) continue;
            const x0 = u.valToPos(p.start_s, 'x', true);
            const x1 = u.valToPos(p.end_s, 'x', true);
            const left = Math.max(x0, u.bbox.left);
            const right = Math.min(x1, u.bbox.left + u.bbox.width);
            if (right <= left) continue;
            const fill = cssVar(kPhaseColor[p.name] || '--phase-watch');
            if (fill && fill !== 'rgba(0, 0, 0, 0)') {
              ctx.fillStyle = fill;
              ctx.fillRect(left, top, right - left, height);
            }
            if (labelled && right - left > 40 * dpr) {
              ctx.fillStyle = cssVar('--muted');
              ctx.fillText(p.name, left + 4 * dpr, top + 3 * dpr);
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

// A dashed horizontal line at the memory limit, labelled at its right end.
function limitPlugin(limit, source) {
  return {
    hooks: {
      draw: [
        (u) => {
          const y = u.valToPos(limit, 'y', true);
          const {left, width, top} = u.bbox;
          if (y < top - 1) return;
          const {ctx} = u;
          const dpr = uPlot.pxRatio;
          ctx.save();
          ctx.strokeStyle = cssVar('--bad');
          ctx.lineWidth = 1.5 * dpr;
          ctx.setLineDash([8 * dpr, 5 * dpr]);
          ctx.beginPath();
          ctx.moveTo(left, y);
          ctx.lineTo(left + width, y);
          ctx.stroke();
          ctx.fillStyle = cssVar('--bad');
          ctx.font = `600 ${11 * dpr}px ${cssVar('--font-ui')}`;
          ctx.textAlign = 'right';
          ctx.textBaseline = 'bottom';
          const label = `limit ${fmtBytes(limit)}${source ? ` (${source})` : ''}`;
          ctx.fillText(label, left + width - 4 * dpr, y - 3 * dpr);
          ctx.restore();
        },
      ],
    },
  };
}

function axisStyle() {
  const grid = cssVar('--grid');
  return {
    stroke: cssVar('--muted'),
    grid: {stroke: grid, width: 1},
    ticks: {stroke: grid, width: 1, size: 4},
    font: `11px ${cssVar('--font-ui')}`,
  };
}

// Builds one uPlot chart in `host`. spec: {t, lines: [{label, values, color, width, dash}],
// format, phases, limit, limitSource, height, compact, width}. Returns the uPlot instance. Pass
// the width measured beforehand when drawing many charts: reading it here after the previous
// chart changed the document would force a layout per chart.
export function lineChart(host, spec) {
  const fmt = spec.format || fmtCount;
  const peak = Math.max(0, ...spec.lines.map((l) => maxValue(l.values) ?? 0));
  const showLimit = isNum(spec.limit) && spec.limit > 0 && spec.limit <= peak * kLimitReach;
  const top = Math.max(peak, showLimit ? spec.limit : 0);
  const plugins = [phasePlugin(spec.phases || [])];
  if (showLimit) plugins.push(limitPlugin(spec.limit, spec.limitSource));
  const opts = {
    width: Math.max(200, spec.width || host.clientWidth),
    height: spec.height || 220,
    plugins,
    legend: {show: !spec.compact, live: true},
    cursor: {sync: {key: kSyncKey}, points: {size: 6}, drag: {x: true, y: false}},
    scales: {
      x: {time: false},
      y: {range: (u, min, max) => [0, top > 0 ? top * 1.08 : 1]},
    },
    axes: [
      {...axisStyle(), values: (u, splits) => splits.map(fmtClock), size: spec.compact ? 24 : 32},
      {
        ...axisStyle(),
        values: (u, splits) => splits.map((v) => fmt(v)),
        size: spec.compact ? 58 : 72,
        splits: undefined,
      },
    ],
    series: [
      {label: 'time', value: (u, v) => fmtClock(v)},
      ...spec.lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: l.width || 1.75,
        dash: l.dash,
        spanGaps: true,
        points: {show: false},
        value: (u, v) => (v === null || v === undefined ? '–' : fmt(v)),
        fill: spec.lines.length === 1 ? l.color + '22' : undefined,
      })),
    ],
  };
  const data = [spec.t, ...spec.lines.map((l) => l.values)];
  const chart = new uPlot(opts, data, host);
  chart.root.dataset.rendered = 'chart';
  return chart;
}

// Sizes every chart to its container when the window changes.
export function keepSized(charts) {
  const observer = new ResizeObserver(() => {
    for (const {chart, host} of charts) {
      const w = Math.max(200, host.clientWidth);
      if (Math.abs(chart.width - w) > 1) chart.setSize({width: w, height: chart.height});
    }
  });
  for (const {host} of charts) observer.observe(host);
  return observer;
}

// A Go service's live heap comes from its own runtime (net/http/pprof), not from the agent.
export function memoryLabel(s, report) {
  const go = (report.target || {}).source === 'pprof';
  return s.key === 'heap_inuse_bytes' && go ? 'Live heap (Go)' : s.label;
}

// The "Over time" section's charts for the report's series. Returns [{title, caption, wide,
// draw(host, width)}]; draw runs once the host is in the document.
export function timelineCharts(report) {
  const series = report.series || {};
  const t = series.t_s || [];
  const phases = report.phases || [];
  const out = [];
  // A series with no number in it (every snapshot missed it) is left out rather than drawn empty.
  const has = (key) => maxValue(series[key]) !== null;
  const memory = kMemorySeries.filter((s) => has(s.key)).map((s) => ({...s, label: memoryLabel(s, report)}));
  if (memory.length) {
    const peak = Math.max(...memory.map((s) => maxValue(series[s.key]) ?? 0));
    const limit = report.limit_bytes;
    let caption = null;
    if (isNum(limit) && limit > peak * kLimitReach) {
      caption = `limit ${fmtBytes(limit)}${report.limit_source ? ` (${report.limit_source})` : ''}`
        + ` is off the scale: the peak is ${((100 * peak) / limit).toFixed(1)}% of it`;
    }
    out.push({
      title: 'Memory',
      caption,
      wide: true,
      draw: (host, width) =>
        lineChart(host, {
          t,
          width,
          phases,
          format: fmtBytes,
          limit,
          limitSource: report.limit_source,
          height: 280,
          lines: memory.map((s) => ({...s, values: series[s.key], color: cssVar(s.color)})),
        }),
    });
  }
  for (const s of kCountSeries) {
    if (!has(s.key)) continue;
    out.push({
      title: s.label,
      draw: (host, width) =>
        lineChart(host, {
          t,
          width,
          phases,
          height: 180,
          lines: [{...s, values: series[s.key], color: cssVar(s.color)}],
        }),
    });
  }
  return out;
}

export function chartFrame(title, caption) {
  const host = h('div', {class: 'chart-host'});
  const node = h(
    'figure',
    {class: 'chart'},
    h('figcaption', null, h('span', {class: 'chart-title'}, title), caption ? h('span', {class: 'chart-note'}, caption) : null),
    host,
  );
  return {node, host};
}
