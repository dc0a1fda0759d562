import type { LayerInfo } from './api.ts';

/** The four graded risk levels, most severe first (the order the plans use). */
export const RISK_LEVELS = ['red', 'orange', 'yellow', 'blue'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** 4 for red … 1 for blue, 0 for anything else: higher is more severe. */
export function levelRank(level: unknown): number {
  const i = RISK_LEVELS.indexOf(level as RiskLevel);
  return i < 0 ? 0 : 4 - i;
}

/** The colour of a risk level as the layer's own style defines it (the registry's four colours). */
export function riskLevelColor(layer: LayerInfo, level: string): string {
  const by = layer.style.by;
  return (by?.property === 'level' && by.colors[level]) || layer.style.color;
}

/** A change that must catch the eye: a new red/orange point, or one raised to red/orange. */
export function isAlarming(op: string, level: unknown, previousLevel: unknown): boolean {
  if (levelRank(level) < levelRank('orange')) return false;
  if (op === 'insert') return true;
  return op === 'update' && levelRank(level) > levelRank(previousLevel);
}
