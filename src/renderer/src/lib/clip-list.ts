/**
 * A selection of clips as a file to download: a .txt of clip ids, one per line, or a .csv with each
 * clip's primary label, split and status (RFC 4180 quoting, so ids with commas, quotes or line breaks
 * survive a round trip).
 */
export interface ClipListRow {
  id: string
  label: string
  split: string
  status: string
}

export function clipListText(rows: readonly ClipListRow[]): string {
  return rows.map((r) => `${r.id}\n`).join('')
}

const csvField = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)

export function clipListCsv(rows: readonly ClipListRow[]): string {
  return ['id,label,split,status', ...rows.map((r) => [r.id, r.label, r.split, r.status].map(csvField).join(','))].map((l) => `${l}\r\n`).join('')
}

/** saves `text` as a file through the browser's download */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
