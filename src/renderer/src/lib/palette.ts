/** Label colours (Tableau 10), repeated past ten classes; no label is grey. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const
export const NO_LABEL = '#9aa3b2'

export const colorOf = (label: number): string => (label < 0 ? NO_LABEL : PALETTE[label % PALETTE.length])
