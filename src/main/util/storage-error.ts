/**
 * Write failures that the user can act on (a full disk, a folder they may not write to) named with the
 * file and, where known, the bytes that were being written. Node's own message for a full disk names
 * neither ("ENOSPC: no space left on device, write").
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only'
}

/** An error for writing `path` (`bytes` long when known) that names both; other errors pass unchanged. */
export function storageError(err: unknown, path: string, bytes?: number): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code
  if (!code || !(code in REASONS)) return err
  const size = bytes === undefined ? '' : `, writing ${formatBytes(bytes)}`
  const hint = code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space and run the command again' : 'check the folder\'s owner and permissions'
  const wrapped = new Error(`${path}: ${REASONS[code]} (${code}${size}); ${hint}`, { cause: err }) as NodeJS.ErrnoException
  wrapped.code = code
  return wrapped
}

export function byteLength(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
}
