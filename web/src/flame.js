// Flame graphs of the heap: where the in-use growth between the end of the baseline and the end
// of the run was allocated (flame.growth), and the live heap at the last snapshot (flame.final).
// The report carries folded stacks, root first; they are merged here into a tree, each node's
// value the total of the stacks through it, and drawn by FlameGraph (flamegraph.js). Click a frame
// to zoom into it, search to highlight every frame whose name contains the text (a plain
// substring, so `operator()` can be searched), and download the stacks as a .folded file for
// flamegraph.pl or speedscope, generated here from the embedded JSON.
import {h} from './dom.js';
import {FlameGraph} from './flamegraph.js';
import {fmtBytes, fmtCount, isNum} from './format.js';

export function toTree(stacks, rootName) {
  const root = {name: rootName, value: 0, children: new Map()};
  for (const s of stacks || []) {
    const value = s && s.value;
    if (!isNum(value) || value <= 0 || !Array.isArray(s.stack)) continue;
    root.value += value;
    let node = root;
    for (const name of s.stack) {
      const key = String(name);
      let child = node.children.get(key);
      if (!child) {
        child = {name: key, value: 0, children: new Map()};
        node.children.set(key, child);
      }
      child.value += value;
      node = child;
    }
  }
  const finish = (n) => ({
    name: n.name,
    value: n.value,
    children: [...n.children.values()].sort((a, b) => b.value - a.value).map(finish),
  });
  return finish(root);
}

export function toFolded(stacks) {
  const lines = [];
  for (const s of stacks || []) {
    if (!isNum(s.value) || s.value <= 0 || !Array.isArray(s.stack)) continue;
    // Folded stacks separate frames with ';' and end with a space and the value.
    lines.push(`${s.stack.map((f) => String(f).replaceAll(';', ':')).join(';')} ${Math.round(s.value)}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], {type: 'text/plain'}));
  const a = h('a', {href: url, download: name});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Builds one flame graph panel. kind: 'growth' | 'final'. Returns {node, draw, empty}.
export function flamePanel(report, kind) {
  const flame = report.flame || {};
  const stacks = Array.isArray(flame[kind]) ? flame[kind] : [];
  const unit = flame.unit || 'bytes';
  const fmt = unit === 'bytes' ? fmtBytes : fmtCount;
  const tree = toTree(stacks, kind === 'growth' ? 'growth since baseline' : 'live heap');
  const details = h('div', {class: 'flame-details'}, ' ');
  const host = h('div', {class: 'flame-host', dataset: {flame: kind}});
  const search = h('input', {type: 'search', placeholder: 'Search frames', 'aria-label': 'Search frames'});
  const reset = h('button', {type: 'button'}, 'Reset zoom');
  const save = h('button', {type: 'button', title: 'Folded stacks for flamegraph.pl or speedscope'}, 'Download .folded');
  const empty = tree.value <= 0;
  const toolbar = h(
    'div',
    {class: 'flame-toolbar'},
    h('span', {class: 'flame-total'}, empty ? 'no stacks' : `${fmt(tree.value)} in ${stacks.length.toLocaleString('en-US')} stacks`),
    search,
    reset,
    save,
  );
  const node = h('div', {class: 'flame'}, toolbar, details, host);
  save.addEventListener('click', () => download(`leakscope-${kind}.folded`, toFolded(stacks)));
  if (empty) {
    search.disabled = reset.disabled = save.disabled = true;
    host.append(h('p', {class: 'empty'}, kind === 'growth'
      ? 'No heap growth with stacks: the report has no allocation stacks that grew (or /proc figures only).'
      : 'No live-heap stacks in this report (/proc figures only, or no heap profile).'));
    return {node, host, empty, draw: () => null};
  }
  const draw = (width) => {
    const graph = new FlameGraph(host, tree, {
      format: fmt,
      width,
      onHover: (text) => (details.textContent = text || searchLine || ' '),
    });
    let searchLine = '';
    search.addEventListener('input', () => {
      const found = graph.search(search.value);
      searchLine = search.value
        ? `“${search.value}”: ${found.frames} frames, ${fmt(found.value)} (${((100 * found.value) / tree.value).toFixed(1)}%)`
        : '';
      details.textContent = searchLine || ' ';
    });
    reset.addEventListener('click', () => graph.zoom(null));
    host.dataset.rendered = 'flame';
    return {graph, resize: () => graph.resize()};
  };
  return {node, host, empty, draw};
}
