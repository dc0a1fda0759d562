/**
 * Two themes: light for planners at a desk, dark for command-centre walls read
 * from across a room. The registry's colours are used as they are for points
 * (the four risk colours stay the ones people know); outlines and greys that
 * would vanish on a dark background are lightened, and every point gets a light
 * rim on dark so blue stays visible.
 */
export interface Theme {
  name: 'light' | 'dark';
  background: string;
  /** Rim around point symbols. */
  pointStroke: string;
  /** Halo behind map labels. */
  textHalo: string;
  text: string;
  clusterFill: string;
  clusterText: string;
  /** Symbol size factor (walls are read from metres away). */
  scale: number;
  /** Font size of admin labels in CSS pixels. */
  labelSize: number;
}

export const LIGHT: Theme = {
  name: 'light',
  background: '#eef1f4',
  pointStroke: '#ffffff',
  textHalo: 'rgba(255,255,255,0.9)',
  text: '#27323f',
  clusterFill: 'rgba(255,255,255,0.92)',
  clusterText: '#1d2733',
  scale: 1,
  labelSize: 12,
};

export const DARK: Theme = {
  name: 'dark',
  background: '#0b1220',
  pointStroke: '#e6edf7',
  textHalo: 'rgba(11,18,32,0.9)',
  text: '#d8e1ee',
  clusterFill: 'rgba(20,30,48,0.92)',
  clusterText: '#f2f6fb',
  scale: 1.5,
  labelSize: 17,
};

function parseHex(hex: string): [number, number, number] | null {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Relative luminance (WCAG) of a #rrggbb colour. */
export function luminance(hex: string): number {
  const rgb = parseHex(hex);
  if (!rgb) return 0.5;
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function mix(hex: string, withHex: string, amount: number): string {
  const a = parseHex(hex);
  const b = parseHex(withHex);
  if (!a || !b) return hex;
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * amount));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** A registry colour as drawn in `theme`: lines and outlines too dark for a dark map are lightened. */
export function themeColor(hex: string, role: 'point' | 'line' | 'outline' | 'fill', theme: Theme): string {
  if (theme.name === 'light') return hex;
  const l = luminance(hex);
  if (role === 'outline' && l < 0.35) return mix(hex, '#ffffff', 0.6);
  if (role === 'line' && l < 0.2) return mix(hex, '#ffffff', 0.45);
  if (role === 'point' && l < 0.06) return mix(hex, '#ffffff', 0.35);
  return hex;
}

/** `#rrggbb` + opacity → rgba(). */
export function withAlpha(hex: string, alpha: number): string {
  const rgb = parseHex(hex);
  return rgb ? `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})` : hex;
}

/** The system font stack: no web fonts, CJK from the operating system. */
export const FONT_STACK = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
