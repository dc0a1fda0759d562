import type { ChangeFeed, ChangeListener, FeatureChange } from '../catalog/ports.ts';

export type { ChangeListener, FeatureChange } from '../catalog/ports.ts';

/**
 * Every committed change to a feature is announced here, after the transaction
 * commits (FeatureChange in catalog/ports.ts says what one carries).
 */
export class ChangeBus implements ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: FeatureChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
