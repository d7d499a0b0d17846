/** A benchmark section: a titled table in which each row compares ours with the anchors. */
export interface Section {
  title: string
  /** What was measured and how, in a sentence or two. */
  method: string
  unit: string
  /** Column names: ours first, then the anchors. */
  columns: string[]
  /** A row's own unit, where it differs from the section's. */
  rows: { name: string; values: (number | undefined)[]; unit?: string }[]
  /** Lower is better (times, sizes). */
  lowerIsBetter: boolean
  /** Paragraphs after the table: findings, the profile of a missed target. */
  notes?: string[]
}

const format = (value: number | undefined, unit: string): string => {
  if (value === undefined) return '—'
  if (unit === '') return value.toLocaleString('en-US', { maximumFractionDigits: 0 })
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`
}

/** Ours ÷ the best anchor: below 1 means we are faster or smaller. */
export function ratio(values: (number | undefined)[], lowerIsBetter: boolean): string {
  const [ours, ...anchors] = values
  const known = anchors.filter((v): v is number => v !== undefined)
  if (ours === undefined || known.length === 0) return '—'
  const best = lowerIsBetter ? Math.min(...known) : Math.max(...known)
  return `${(ours / best).toFixed(2)}×`
}

export function renderSection(section: Section): string {
  const header = ['', ...section.columns, `${section.columns[0]} ÷ best anchor`]
  const lines = [
    `## ${section.title}`,
    '',
    section.method,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...section.rows.map(
      (row) =>
        `| ${[row.name, ...row.values.map((v) => format(v, row.unit ?? section.unit)), ratio(row.values, section.lowerIsBetter)].join(' | ')} |`,
    ),
    ...(section.notes ?? []).flatMap((note) => ['', note]),
  ]
  return lines.join('\n')
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
