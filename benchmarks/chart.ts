// Renders benchmark medians as an SVG bar chart: one group per case, each server's bar scaled to the
// ceiling of that case (1.00 = the most a JavaScript server on Node can do), readable without tooling.

export interface ChartGroup {
  title: string;
  /** The first value is the reference (the ceiling). */
  values: Array<{ name: string; value: number }>;
}

const COLORS = ['#9aa0a6', '#1a73e8', '#e37400', '#188038', '#a142f4'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function kilo(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(value >= 100_000 ? 0 : 1)}k` : value.toFixed(0);
}

export function renderChart(groups: ChartGroup[]): string {
  const left = 250;
  const barArea = 520;
  const barHeight = 16;
  const gap = 4;
  const groupGap = 22;
  const top = 56;
  const names = groups[0]?.values.map((v) => v.name) ?? [];
  const groupHeight = names.length * (barHeight + gap) + groupGap;
  const height = top + groups.length * groupHeight + 20;
  const width = left + barArea + 150;
  const maxRatio = Math.max(1, ...groups.flatMap((g) => g.values.map((v) => v.value / g.values[0]!.value)));
  const scale = barArea / maxRatio;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="16" y="22" font-size="15" font-weight="600">Requests/s relative to the raw-socket ceiling (median of interleaved rounds)</text>`);
  names.forEach((name, i) => {
    const x = 16 + i * 120;
    parts.push(`<rect x="${x}" y="34" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 16}" y="44">${escapeXml(name)}</text>`);
  });
  const oneX = left + scale;
  parts.push(`<line x1="${oneX}" y1="${top - 6}" x2="${oneX}" y2="${height - 16}" stroke="#555" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${oneX + 4}" y="${height - 4}" fill="#555">1.00 = ceiling</text>`);
  groups.forEach((group, g) => {
    const y0 = top + g * groupHeight;
    const reference = group.values[0]!.value;
    parts.push(`<text x="16" y="${y0 + barHeight}" font-weight="600">${escapeXml(group.title)}</text>`);
    group.values.forEach((v, i) => {
      const y = y0 + i * (barHeight + gap);
      const ratio = v.value / reference;
      parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, ratio * scale).toFixed(1)}" height="${barHeight}" fill="${COLORS[i % COLORS.length]}"/>`);
      parts.push(`<text x="${left + ratio * scale + 6}" y="${y + barHeight - 4}">${ratio.toFixed(2)} (${kilo(v.value)}/s)</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
