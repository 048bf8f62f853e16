/**
 * The command allowlist (`-allow`). Flagger's loadtester runs any command for anyone who can reach
 * it; fledge-loadtester runs a command only when one entry matches it. An empty list refuses every
 * command (gates keep working).
 *
 * An entry is a regular expression (JavaScript syntax, close to Go's RE2 for what allowlists use)
 * that must match the **whole** command line: it is anchored as `^(?:entry)$`.
 *
 * - A plain entry matches the canonical command line of the argv that will run (see
 *   {@link canonicalCommand}: words joined by one space, words with blanks, quotes or shell
 *   metacharacters in single quotes). `helm` and `kubectl` tasks match as `helm <args>` and
 *   `kubectl <args>`, the native `type: load` as `load <METHOD> <url>`.
 * - An entry prefixed `bash:` matches the raw script of a `type: bash` task, which then runs with
 *   `bash -c`: pipes, redirections and substitutions work. Only these entries ever reach a shell,
 *   so write them as tightly as you can.
 */
import { canonicalCommand } from './shellwords.ts';

/** The prefix of entries that allow a script to run through `bash -c`. */
export const SHELL_ENTRY_PREFIX = 'bash:';

/** One parsed `-allow` entry. */
export interface AllowEntry {
  /** As given on the command line (with its prefix). */
  readonly source: string;
  /** A `bash:` entry: matches `type: bash` scripts, which then run through a shell. */
  readonly shell: boolean;
  readonly pattern: RegExp;
}

/** An `-allow` entry that is not a valid regular expression. */
export class AllowlistError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Splits one `-allow` value on commas that are not inside `()`, `[]` or `{}` and not escaped, so
 * that `^a{1,3}$,^b$` is two entries and a quantifier's comma stays in its entry. Empty parts are dropped.
 */
export function splitAllowValue(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    if (c === '\\') {
      current += c + value.charAt(i + 1);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(' || c === '{') depth++;
    else if ((c === ')' || c === '}') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** The parsed allowlist. */
export class Allowlist {
  readonly entries: readonly AllowEntry[];

  private constructor(entries: readonly AllowEntry[]) {
    this.entries = entries;
  }

  /** Parses entries (each an already split value); throws {@link AllowlistError} naming a bad one. */
  static parse(sources: readonly string[]): Allowlist {
    const entries = sources.map((source): AllowEntry => {
      const shell = source.startsWith(SHELL_ENTRY_PREFIX);
      const body = shell ? source.slice(SHELL_ENTRY_PREFIX.length) : source;
      if (body === '') throw new AllowlistError(`-allow entry "${source}" is empty`);
      try {
        return { source, shell, pattern: new RegExp(`^(?:${body})$`) };
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new AllowlistError(`-allow entry "${source}" is not a valid regular expression: ${why}`, { cause: err });
      }
    });
    return new Allowlist(entries);
  }

  /** True when no entry exists: every command is refused. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** The first plain entry matching the canonical command line of `argv`. */
  matchArgv(argv: readonly string[]): AllowEntry | undefined {
    const line = canonicalCommand(argv);
    return this.entries.find((e) => !e.shell && e.pattern.test(line));
  }

  /** The first `bash:` entry matching the raw (trimmed) script. */
  matchShell(script: string): AllowEntry | undefined {
    const text = script.trim();
    return this.entries.find((e) => e.shell && e.pattern.test(text));
  }
}

/** The 403 message for a command no entry allows. */
export function refusalMessage(commandLine: string, list: Allowlist, shell = false): string {
  if (list.empty) {
    return `command refused: ${JSON.stringify(commandLine)} is not allowed: fledge-loadtester was started without -allow entries, so it runs no commands`;
  }
  const kind = shell ? '"bash:" -allow entry' : '-allow entry';
  return `command refused: ${JSON.stringify(commandLine)} matches no ${kind} of fledge-loadtester`;
}
