// Stacked bar charts drawn as SVG with the DOM (no library, no CDN): one bar per day, one
// colour per series (platform or model). Every bar segment is a <rect> with a <title>
// (hover or screen reader) and data-day/data-series/data-value for tests; the chart as a
// whole has role="img" and a label giving its total. The SVG scales with its box, so it
// fits a 375-px screen.

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2458a6', '#e07b00', '#2e8b57', '#a62424', '#7b4fb0', '#00838f', '#8d6e63', '#5a6477'];
const MAX_SERIES = PALETTE.length - 1; // the rest are drawn together as "…"
const WIDTH = 600;
const HEIGHT = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 24 };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// rows: [{day, key, <measure>}]; returns [{name, values: Map(day → value)}], biggest first.
function seriesOf(rows, measure) {
  const totals = new Map();
  for (const row of rows) totals.set(row.key, (totals.get(row.key) ?? 0) + row[measure]);
  const names = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));
  const kept = names.slice(0, MAX_SERIES);
  // Colours follow the names' alphabetical order, so a platform keeps its colour in the
  // requests and the credits chart.
  const alphabetical = [...kept].sort();
  const series = kept.map((name) => ({ name, colour: alphabetical.indexOf(name), values: new Map() }));
  if (names.length > kept.length) series.push({ name: '…', colour: PALETTE.length - 1, values: new Map() });
  for (const row of rows) {
    const target = series.find((s) => s.name === row.key) ?? series[series.length - 1];
    target.values.set(row.day, (target.values.get(row.day) ?? 0) + row[measure]);
  }
  return series;
}

export function formatNumber(value, language) {
  return new Intl.NumberFormat(language, { maximumFractionDigits: 2 }).format(value);
}

// A <figure> with the chart and its legend.
export function stackedChart({ id, title, days, rows, measure, language, label }) {
  const series = seriesOf(rows, measure);
  const perDay = days.map((day) => series.reduce((sum, s) => sum + (s.values.get(day) ?? 0), 0));
  const total = perDay.reduce((a, b) => a + b, 0);
  const top = niceMax(Math.max(0, ...perDay));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const barW = Math.max(1, slot * 0.7);

  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.id = id;
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  const svg = el('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': label(title, formatNumber(total, language)),
    'data-total': total,
  });
  // Axis: zero, half and the top value, with light grid lines.
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - fraction);
    svg.append(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: PAD.left - 4, y: y + 4, 'text-anchor': 'end', class: 'axis' },
      formatNumber(top * fraction, language)));
  }
  days.forEach((day, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let base = PAD.top + plotH;
    series.forEach((s) => {
      const value = s.values.get(day) ?? 0;
      if (!value) return;
      const h = (value / top) * plotH;
      base -= h;
      const rect = el('rect', {
        x: x.toFixed(1), y: base.toFixed(1), width: barW.toFixed(1), height: Math.max(h, 0.5).toFixed(1),
        fill: PALETTE[s.colour], class: 'bar',
        'data-day': day, 'data-series': s.name, 'data-value': value,
      });
      rect.append(el('title', {}, `${day} · ${s.name}: ${formatNumber(value, language)}`));
      svg.append(rect);
    });
    if (i === 0 || i === days.length - 1 || i === Math.floor(days.length / 2)) {
      const anchor = i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle';
      const tx = i === 0 ? PAD.left : i === days.length - 1 ? WIDTH - PAD.right : x + barW / 2;
      svg.append(el('text', { x: tx, y: HEIGHT - 6, 'text-anchor': anchor, class: 'axis' }, day.slice(5)));
    }
  });
  const legend = document.createElement('ul');
  legend.className = 'legend';
  series.forEach((s) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch c${s.colour}`;
    swatch.setAttribute('aria-hidden', 'true');
    const sum = [...s.values.values()].reduce((a, b) => a + b, 0);
    item.append(swatch, `${s.name}: ${formatNumber(sum, language)}`);
    legend.append(item);
  });
  figure.append(caption, svg, legend);
  return figure;
}
