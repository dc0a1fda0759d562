/**
 * Shelter usability (migration 009): a shelter may exist and be open yet not be
 * usable — inside an active hazard's zone, closed for a running scenario, or
 * flagged by an editor. The reason is stored with the flag; the time it became
 * unusable is kept by a trigger.
 */
export const UNUSABLE_REASONS = ['hazard_zone', 'scenario', 'editor'] as const;
export type UnusableReason = (typeof UNUSABLE_REASONS)[number];
