import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

/** The repository's python/ folder (the PyTorch trainer). */
export const PYTHON_DIR = resolve(__dirname, '..', '..', 'python')

/**
 * The Python interpreter with torch and torchaudio: EQUIAV_PYTHON, else /usr/bin/python3 (Debian's python3-torch).
 * null when it cannot import them; CI installs them, so there a missing torch is a failure rather than a skip.
 */
export function torchPython(): string | null {
  const python = process.env.EQUIAV_PYTHON ?? '/usr/bin/python3'
  const probe = spawnSync(python, ['-c', 'import torch, torchaudio, numpy'], { encoding: 'utf8' })
  return probe.status === 0 ? python : null
}

/** Skip a suite only outside CI, with a message saying why. */
export function pythonSuiteMode(python: string | null, what: string): 'run' | 'skip' {
  if (python) return 'run'
  if (process.env.CI) throw new Error(`${what}: CI needs Python with torch and torchaudio (/usr/bin/python3 or EQUIAV_PYTHON)`)
  console.warn(`skipping ${what}: no Python with torch and torchaudio (set EQUIAV_PYTHON or install python3-torch)`)
  return 'skip'
}
