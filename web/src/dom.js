// A tiny DOM builder. Report data only ever reaches the page as text nodes or attribute values,
// never as markup, so a function name like `operator<<` or a hostile file name cannot inject HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function section(id, title, subtitle, ...children) {
  return h(
    'section',
    {id, class: 'section'},
    h('h2', null, title, subtitle ? h('span', {class: 'sub'}, subtitle) : null),
    ...children,
  );
}

// Theme colours are CSS variables. Reading one forces a style recalculation when the document
// has changed since the last read, so they are read once per render and cached; resetTheme()
// drops the cache when the colour scheme changes.
let themeCache = null;

export function cssVar(name) {
  if (!themeCache) themeCache = {style: getComputedStyle(document.documentElement), values: new Map()};
  let v = themeCache.values.get(name);
  if (v === undefined) {
    v = themeCache.style.getPropertyValue(name).trim();
    themeCache.values.set(name, v);
  }
  return v;
}

export function resetTheme() {
  themeCache = null;
}
