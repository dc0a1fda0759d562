import { onLang, t, type Word } from '../i18n.ts';

/** The planner's side panel views: each tab owns one container, one is shown at a time. */
export const SIDE_TABS = ['coverage', 'risk', 'scenario', 'print', 'data'] as const;
export type SideTab = (typeof SIDE_TABS)[number];

const TITLES: Record<SideTab, Word> = { coverage: 'tabCoverage', risk: 'tabRisk', scenario: 'tabScenario', print: 'tabPrint', data: 'tabData' };

export class SideTabs {
  readonly panes = {} as Record<SideTab, HTMLElement>;
  private current: SideTab = 'coverage';
  private readonly listeners = new Set<(tab: SideTab) => void>();

  /** `tabs`: the views this user has (editing needs a key). */
  constructor(side: HTMLElement, tabs: readonly SideTab[] = SIDE_TABS) {
    const strip = document.createElement('nav');
    strip.className = 'side-tabs';
    strip.setAttribute('role', 'tablist');
    side.append(strip);
    for (const tab of tabs) {
      const pane = document.createElement('section');
      pane.id = `side-${tab}`;
      pane.dataset.pane = tab;
      pane.hidden = tab !== this.current;
      side.append(pane);
      this.panes[tab] = pane;
    }
    const renderStrip = () => {
      strip.innerHTML = tabs.map(
        (tab) => `<button type="button" role="tab" data-tab="${tab}" aria-selected="${tab === this.current}">${t(TITLES[tab])}</button>`,
      ).join('');
    };
    onLang(renderStrip);
    strip.addEventListener('click', (e) => {
      const tab = (e.target as HTMLElement).closest<HTMLElement>('[data-tab]')?.dataset.tab as SideTab | undefined;
      if (tab) this.show(tab);
    });
    this.renderStrip = renderStrip;
  }

  private readonly renderStrip: () => void;

  get active(): SideTab {
    return this.current;
  }

  show(tab: SideTab): void {
    if (tab === this.current) return;
    this.current = tab;
    for (const [name, pane] of Object.entries(this.panes)) pane.hidden = name !== tab;
    this.renderStrip();
    for (const fn of this.listeners) fn(tab);
  }

  onShow(fn: (tab: SideTab) => void): void {
    this.listeners.add(fn);
  }
}
