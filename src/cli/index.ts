/** `equiav` command-line entry: dispatches to the subcommands in ./commands. */
import { type Command, UsageError, parseCommandArgs } from './command'
import { commands } from './commands'

function helpText(): string {
  const lines = ['usage: equiav <command> [options]', '', 'commands:']
  for (const c of commands) lines.push(`  ${c.path.join(' ').padEnd(24)} ${c.summary}`)
  lines.push('', 'Run `equiav <command> --help` for its options.')
  return lines.join('\n')
}

function find(argv: string[]): { cmd: Command; rest: string[] } | null {
  // the longest command path that prefixes argv wins (`dataset import` before `dataset`)
  const sorted = [...commands].sort((a, b) => b.path.length - a.path.length)
  for (const cmd of sorted) {
    if (cmd.path.every((word, i) => argv[i] === word)) return { cmd, rest: argv.slice(cmd.path.length) }
  }
  return null
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(helpText() + '\n')
    return argv.length === 0 ? 1 : 0
  }
  const found = find(argv)
  if (!found) {
    process.stderr.write(`equiav: unknown command "${argv.join(' ')}"\n\n${helpText()}\n`)
    return 2
  }
  const { cmd, rest } = found
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: equiav ${cmd.path.join(' ')} [options]\n${cmd.summary}\n\n${cmd.usage}\n`)
    return 0
  }
  try {
    const { values, positionals } = parseCommandArgs(cmd, rest)
    return await cmd.run(values, positionals)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\nRun \`equiav ${cmd.path.join(' ')} --help\` for usage.\n`)
      return 2
    }
    process.stderr.write(`equiav ${cmd.path.join(' ')}: ${err instanceof Error ? err.message : String(err)}\n`)
    if (process.env.EQUIAV_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n')
    return 1
  }
}
