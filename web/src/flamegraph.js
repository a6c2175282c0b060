// A canvas flame graph (icicle layout: the root on top, callees below). The report's heap stacks
// run to thousands of frames; an SVG graph of them (one element per frame, as d3-flame-graph
// draws) took seconds to lay out, a canvas draws the visible frames in milliseconds. Only frames
// at least kMinPx wide are drawn, and a subtree narrower than that is skipped whole, so the cost
// follows what can be seen, not the size of the profile.
//
// The tree: {name, value, children[]}, each value the total of the stacks through it. Each node
// gets `start`, its offset from the root's left edge in value units, so a zoom is only a change of
// the visible value range [view0, view1): the focused node fills the width, its ancestors span
// it (drawn faded), and everything outside the range is off the canvas.
import {cssVar} from './dom.js';

const kRowPx = 18;
const kMinPx = 0.75;
const kLabelMinPx = 28;

function layout(node, start, depth, stats) {
  node.start = start;
  node.depth = depth;
  stats.maxDepth = Math.max(stats.maxDepth, depth);
  let at = start;
  for (const child of node.children) {
    child.parent = node;
    layout(child, at, depth + 1, stats);
    at += child.value;
  }
}

// Stable warm colours from a hash of the name, memoized: a big graph repeats names thousands of
// times and draws again on every hover.
const colorCache = new Map();

function colorFor(name, dark) {
  const key = dark ? `d${name}` : `l${name}`;
  let color = colorCache.get(key);
  if (color === undefined) {
    color = hashColor(name, dark);
    colorCache.set(key, color);
  }
  return color;
}

function hashColor(name, dark) {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
  const u = ((hash >>> 0) % 1000) / 1000;
  const hue = 8 + u * 42;
  const light = (dark ? 46 : 64) + ((hash >>> 10) % 12);
  return `hsl(${hue.toFixed(0)} ${dark ? 60 : 80}% ${light}%)`;
}

export class FlameGraph {
  // host: an element to fill; tree: from toTree(); opts: {format(value), onHover(text), width}.
  constructor(host, tree, opts) {
    this.host = host;
    this.tree = tree;
    this.format = opts.format;
    this.onHover = opts.onHover || (() => {});
    const stats = {maxDepth: 0};
    layout(tree, 0, 0, stats);
    this.maxDepth = stats.maxDepth;
    this.focus = tree;
    this.term = '';
    this.hover = null;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'flame-canvas';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `flame graph of ${this.format(tree.value)}`);
    host.append(this.canvas);
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => this.setHover(null));
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hitTest(e);
      if (hit) this.zoom(hit);
    });
    this.draw(opts.width);
  }

  describe(node) {
    const pct = ((100 * node.value) / this.tree.value).toFixed(1);
    return `${node.name} — ${this.format(node.value)} (${pct}% of ${this.format(this.tree.value)})`;
  }

  zoom(node) {
    this.focus = node || this.tree;
    this.host.dataset.focus = this.focus.name;
    this.draw();
  }

  // Highlights frames whose name contains term (case-insensitive). Returns {frames, value}: the
  // matching frames and the value under them, a frame counted once even below another match.
  search(term) {
    this.term = (term || '').toLowerCase();
    let frames = 0;
    let value = 0;
    const visit = (n, covered) => {
      const hit = !!this.term && n.name.toLowerCase().includes(this.term);
      if (hit) {
        frames++;
        if (!covered) value += n.value;
      }
      for (const c of n.children) visit(c, covered || hit);
    };
    visit(this.tree, false);
    this.draw();
    return {frames, value};
  }

  resize() {
    if (Math.abs(this.host.clientWidth - this.cssWidth) > 1) this.draw();
  }

  draw(knownWidth) {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(300, knownWidth || this.host.clientWidth);
    const height = (this.maxDepth + 1) * kRowPx;
    this.cssWidth = width;
    const c = this.canvas;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const theme = {
      dark,
      accent: cssVar('--accent'),
      dim: dark ? '#3a414c' : '#d5d9df',
      text: '#1b1f24',
      textOnDim: cssVar('--muted'),
      font: `11px ${cssVar('--font-mono')}`,
    };
    ctx.font = theme.font;
    ctx.textBaseline = 'middle';
    const charPx = ctx.measureText('M').width || 7;
    const view0 = this.focus.start;
    const span = this.focus.value || 1;
    const scale = width / span;
    this.rects = [];
    let labels = 0;
    const onPath = new Set();
    for (let n = this.focus; n; n = n.parent) onPath.add(n);
    const drawNode = (n) => {
      const x0 = Math.max(0, (n.start - view0) * scale);
      const x1 = Math.min(width, (n.start + n.value - view0) * scale);
      const w = x1 - x0;
      if (w < kMinPx || x1 <= 0 || x0 >= width) return;
      const y = n.depth * kRowPx;
      const faded = onPath.has(n) && n !== this.focus;
      const matched = this.term && n.name.toLowerCase().includes(this.term);
      ctx.globalAlpha = faded ? 0.55 : 1;
      ctx.fillStyle = matched ? theme.accent : this.term ? theme.dim : colorFor(n.name, dark);
      ctx.fillRect(x0, y, Math.max(w - 0.5, 0.5), kRowPx - 1);
      if (n === this.hover) {
        ctx.strokeStyle = dark ? '#ffffff' : '#1b1f24';
        ctx.lineWidth = 1;
        ctx.strokeRect(x0 + 0.5, y + 0.5, Math.max(w - 1.5, 0.5), kRowPx - 2);
      }
      this.rects.push([x0, y, w, n]);
      if (w >= kLabelMinPx) {
        const room = Math.floor((w - 6) / charPx);
        const label = n.name.length <= room ? n.name : `${n.name.slice(0, Math.max(room - 1, 1))}…`;
        ctx.fillStyle = matched ? '#ffffff' : this.term ? theme.textOnDim : theme.text;
        ctx.fillText(label, x0 + 3, y + kRowPx / 2);
        labels++;
      }
      ctx.globalAlpha = 1;
      for (const child of n.children) drawNode(child);
    };
    drawNode(this.tree);
    this.host.dataset.frames = String(this.rects.length);
    this.host.dataset.labels = String(labels);
    this.host.dataset.focusWidth = String(Math.round(this.focus.value * scale));
  }

  hitTest(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const depth = Math.floor(y / kRowPx);
    for (const [x0, y0, w, n] of this.rects) {
      if (n.depth === depth && x >= x0 && x < x0 + w && y >= y0) return n;
    }
    return null;
  }

  onMove(e) {
    this.setHover(this.hitTest(e));
  }

  setHover(node) {
    if (node === this.hover) return;
    this.hover = node;
    this.canvas.style.cursor = node ? 'pointer' : 'default';
    this.onHover(node ? this.describe(node) : null);
    this.draw();
  }
}
