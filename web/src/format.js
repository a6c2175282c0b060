// Number formatting for the report page: bytes in IEC units, counts, rates, durations and the
// run clock (seconds since the first snapshot). Every figure the page shows passes through here,
// so one report reads the same in the header, the charts, the tooltips and the finding cards.

const kUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

export function fmtBytes(n, digits = 1) {
  if (!isNum(n)) return '–';
  const sign = n < 0 ? '−' : '';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < kUnits.length - 1) {
    v /= 1024;
    i++;
  }
  const d = i === 0 ? 0 : v >= 100 ? 0 : digits;
  return `${sign}${v.toFixed(d)} ${kUnits[i]}`;
}

export function fmtCount(n) {
  if (!isNum(n)) return '–';
  const r = Math.abs(n) >= 100 || Number.isInteger(n) ? Math.round(n) : Number(n.toFixed(1));
  return r.toLocaleString('en-US').replace('-', '−');
}

// A value in a finding's unit: "bytes", "count" or "series" (a metric's own unit, unknown here).
export function fmtValue(v, unit) {
  return unit === 'bytes' ? fmtBytes(v) : fmtCount(v);
}

export function fmtSigned(v, unit) {
  if (!isNum(v)) return '–';
  return (v > 0 ? '+' : '') + fmtValue(v, unit);
}

// Rates read best in the unit that gives a number between 1 and 1000: a leak of 3 bytes/s is
// 10 KiB/h, which is what a person compares with a memory limit.
export function fmtRate(perS, unit) {
  if (!isNum(perS)) return '–';
  const spans = [
    [1, 's'],
    [60, 'min'],
    [3600, 'h'],
    [86400, 'day'],
  ];
  const threshold = unit === 'bytes' ? 1024 : 1;
  let [mult, name] = spans[0];
  for (const [m, n] of spans) {
    [mult, name] = [m, n];
    if (Math.abs(perS * m) >= threshold) break;
  }
  return `${fmtSigned(perS * mult, unit)}/${name}`;
}

export function fmtDuration(s) {
  if (!isNum(s)) return '–';
  if (s < 0) return '−' + fmtDuration(-s);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${Number(s.toFixed(s < 10 ? 1 : 0))} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

// The x axis: m:ss under an hour, h:mm:ss past it.
export function fmtClock(t) {
  if (!isNum(t)) return '–';
  const neg = t < 0;
  let s = Math.round(Math.abs(t));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  const body = `${h ? h + ':' : ''}${mm}:${String(s).padStart(2, '0')}`;
  return (neg ? '−' : '') + body;
}

export function fmtPercent(x) {
  if (!isNum(x)) return '–';
  return `${(x * 100).toFixed(x >= 0.995 || x < 0.1 ? 0 : 0)}%`;
}

export function fmtLocation(f) {
  if (!f) return '';
  if (!f.file) return '';
  return f.line ? `${f.file}:${f.line}` : f.file;
}

// Last and first non-null values of a series.
export function lastValue(values) {
  if (!Array.isArray(values)) return null;
  for (let i = values.length - 1; i >= 0; i--) if (isNum(values[i])) return values[i];
  return null;
}

export function firstValue(values) {
  if (!Array.isArray(values)) return null;
  for (const v of values) if (isNum(v)) return v;
  return null;
}

export function maxValue(values) {
  let m = null;
  for (const v of values || []) if (isNum(v) && (m === null || v > m)) m = v;
  return m;
}
