// Opens a rendered report in Debian's headless Chromium (driven by playwright-core over CDP; no
// browser is downloaded) and checks what a person would: no console errors or uncaught
// exceptions, every chart and flame graph drawn (the page's data-rendered marks, and the canvases
// flame graphs' drawn frames), then saves a full-page screenshot.
//   node check_page.mjs --html PAGE.html --screenshot OUT.png [--dark OUT-dark.png]
//        [--chromium /usr/bin/chromium] [--expect-findings N] [--expect-text TEXT]... [--timings N]
// --expect-text (repeatable) must each appear in the page's visible text.
// With --timings N it opens the page N more times and prints the load times (navigation start
// to all components drawn) as JSON; the check itself never asserts a time.
import {mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {pathToFileURL} from 'node:url';
import {chromium} from 'playwright-core';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const html = arg('--html');
const shot = arg('--screenshot');
const darkShot = arg('--dark');
const executablePath = arg('--chromium', '/usr/bin/chromium');
const expectFindings = arg('--expect-findings');
const timings = Number(arg('--timings', '0'));
const expectTexts = process.argv.flatMap((a, i) => (a === '--expect-text' ? [process.argv[i + 1]] : []));
if (!html || !shot) {
  console.error('usage: node check_page.mjs --html PAGE.html --screenshot OUT.png [--dark OUT.png]');
  process.exit(2);
}

const failures = [];
const fail = (msg) => failures.push(msg);
const userDataDir = mkdtempSync(join(tmpdir(), 'leakscope-chromium-'));
const url = pathToFileURL(resolve(html)).href;

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
  viewport: {width: 1280, height: 900},
});

// Any request that is not the page itself is a failure: the report must be self-contained.
context.on('request', (req) => {
  const u = req.url();
  if (u !== url && !u.startsWith('blob:') && !u.startsWith('data:')) fail(`page requested ${u}`);
});

// Counts the listeners attached to window and the elements ResizeObservers watch, net of
// removals, so a re-render (theme change) can be checked to replace them rather than add more.
function countListeners() {
  const live = {};
  const attached = new Set();
  const add = window.addEventListener.bind(window);
  const remove = window.removeEventListener.bind(window);
  window.addEventListener = (type, fn, opts) => {
    if (!attached.has(fn)) {
      attached.add(fn);
      live[type] = (live[type] || 0) + 1;
    }
    return add(type, fn, opts);
  };
  window.removeEventListener = (type, fn, opts) => {
    if (attached.delete(fn)) live[type] -= 1;
    return remove(type, fn, opts);
  };
  let observed = 0;
  const Base = window.ResizeObserver;
  window.ResizeObserver = class extends Base {
    observe(el, opts) {
      this.count = (this.count || 0) + 1;
      observed += 1;
      return super.observe(el, opts);
    }
    disconnect() {
      observed -= this.count || 0;
      this.count = 0;
      return super.disconnect();
    }
  };
  window.__leakscopeListeners = () => ({...live, observed});
}

async function open(scheme) {
  const page = await context.newPage();
  await page.addInitScript(countListeners);
  await page.emulateMedia({colorScheme: scheme});
  page.on('console', (msg) => {
    if (msg.type() === 'error') fail(`console error (${scheme}): ${msg.text()}`);
  });
  page.on('pageerror', (err) => fail(`uncaught exception (${scheme}): ${err.message}`));
  await page.goto(url, {waitUntil: 'load'});
  await page.waitForFunction(() => document.documentElement.dataset.rendered, null, {timeout: 20000});
  return page;
}

async function inspect(page) {
  return page.evaluate(() => {
    const d = document.documentElement.dataset;
    const nonBlank = [...document.querySelectorAll('.uplot canvas')].filter((c) => {
      const ctx = c.getContext('2d');
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
      return false;
    }).length;
    return {
      rendered: d.rendered,
      errors: d.errors || '',
      charts: d.charts,
      flames: d.flames,
      findings: d.findings,
      uplots: document.querySelectorAll('.uplot').length,
      nonBlankCanvases: nonBlank,
      flameHosts: [...document.querySelectorAll('.flame-host[data-rendered="flame"]')].map((el) => ({
        kind: el.dataset.flame,
        frames: Number(el.dataset.frames),
        labelled: Number(el.dataset.labels),
      })),
      findingCards: document.querySelectorAll('article.finding').length,
      stackFrames: document.querySelectorAll('ol.stack li').length,
      title: document.title,
      renderMs: Number(d.renderMs),
    };
  });
}

const page = await open('light');
const info = await inspect(page);
console.log(JSON.stringify(info));
if (info.rendered !== 'ok') fail(`page not rendered: ${info.rendered} ${info.errors}`);
const [chartsDone, chartsWanted] = String(info.charts).split('/').map(Number);
if (!(chartsWanted > 0) || chartsDone !== chartsWanted) fail(`charts drawn ${info.charts}`);
if (info.uplots !== chartsWanted) fail(`${info.uplots} uPlot charts in the DOM, expected ${chartsWanted}`);
if (info.nonBlankCanvases < chartsWanted) fail(`only ${info.nonBlankCanvases} of ${chartsWanted} chart canvases have pixels`);
const [flamesDone, flamesWanted] = String(info.flames).split('/').map(Number);
if (flamesDone !== flamesWanted) fail(`flame graphs drawn ${info.flames}`);
for (const f of info.flameHosts) {
  if (f.frames < 2) fail(`flame graph ${f.kind} has ${f.frames} frames`);
  if (f.labelled < 1) fail(`flame graph ${f.kind} has no labelled frame`);
}
if (expectFindings !== undefined) {
  if (Number(info.findings) !== Number(expectFindings)) fail(`findings ${info.findings}, expected ${expectFindings}`);
  if (info.findingCards !== Number(expectFindings)) fail(`finding cards ${info.findingCards}, expected ${expectFindings}`);
}

if (expectTexts.length) {
  const text = await page.evaluate(() => document.body.innerText);
  for (const t of expectTexts) if (!text.includes(t)) fail(`the page does not show "${t}"`);
}

await page.screenshot({path: shot, fullPage: true});

// Search and zoom work: a search highlights frames, a click zooms (the clicked frame fills the width).
if (info.flameHosts.length) {
  const flame = page.locator('.flame').first();
  await flame.locator('input[type=search]').fill('main');
  const details = await flame.locator('.flame-details').textContent();
  if (!/frames/.test(details || '')) fail(`search gave no result line: "${details}"`);
  await flame.locator('input[type=search]').fill('');
  // Click the first frame below the root (children are laid out largest first, from the left):
  // it must then fill the width.
  const canvas = flame.locator('canvas');
  const host = flame.locator('.flame-host');
  await canvas.click({position: {x: 4, y: 18 + 9}});
  const focus = await host.getAttribute('data-focus');
  const focusWidth = Number(await host.getAttribute('data-focus-width'));
  const canvasWidth = await canvas.evaluate((c) => c.clientWidth);
  const roots = ['growth since baseline', 'live heap'];
  if (!focus || roots.includes(focus)) fail(`click on a frame below the root did not zoom (focus ${focus})`);
  if (Math.abs(focusWidth - canvasWidth) > 2) fail(`zoomed frame is ${focusWidth}px of ${canvasWidth}px`);
  await flame.getByText('Reset zoom').click();
  if (!roots.includes(await host.getAttribute('data-focus'))) fail('reset zoom did not return to the root');
}

// A theme change redraws the page: it must come back whole, with the same listeners and observers
// as before, not a second set beside the first.
const before = await page.evaluate(() => JSON.stringify(window.__leakscopeListeners()));
for (const scheme of ['dark', 'light']) {
  const renders = Number(await page.evaluate(() => document.documentElement.dataset.renders));
  await page.emulateMedia({colorScheme: scheme});
  await page.waitForFunction((n) => Number(document.documentElement.dataset.renders) > n, renders, {timeout: 20000});
}
const after = await inspect(page);
if (after.rendered !== 'ok') fail(`page after theme changes not rendered: ${after.errors}`);
if (after.uplots !== chartsWanted) fail(`${after.uplots} uPlot charts after theme changes, expected ${chartsWanted}`);
const listenersAfter = await page.evaluate(() => JSON.stringify(window.__leakscopeListeners()));
if (listenersAfter !== before) fail(`theme changes left listeners ${listenersAfter}, before ${before}`);
console.log(`listeners and observers across theme changes: ${before}`);

await page.close();

if (darkShot) {
  const dark = await open('dark');
  const darkInfo = await inspect(dark);
  if (darkInfo.rendered !== 'ok') fail(`dark page not rendered: ${darkInfo.errors}`);
  await dark.screenshot({path: darkShot, fullPage: true});
  await dark.close();
}

if (timings > 0) {
  const loads = [];
  for (let i = 0; i < timings; i++) {
    const p = await context.newPage();
    await p.goto(url, {waitUntil: 'load'});
    await p.waitForFunction(() => document.documentElement.dataset.rendered);
    loads.push(await p.evaluate(() => performance.now()));
    await p.close();
  }
  loads.sort((a, b) => a - b);
  console.log(JSON.stringify({bytes: statSync(html).size, load_ms: loads.map(Math.round), median_ms: Math.round(loads[loads.length >> 1])}));
}

await context.close();
rmSync(userDataDir, {recursive: true, force: true});
if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log('page ok');
