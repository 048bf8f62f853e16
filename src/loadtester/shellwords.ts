/**
 * A small POSIX-shell-words tokenizer: turns a command line into argv **without a shell**, so that
 * nothing in a webhook payload is ever interpreted by one (Flagger runs `sh -c <cmd>`).
 *
 * What it understands, as `sh` does: blanks separate words; `'…'` is literal; inside `"…"` a
 * backslash escapes only `\ " $` and backtick, and `\<newline>` is removed; outside quotes a backslash
 * makes the next character literal and `\<newline>` joins lines; `''` and `""` are empty words.
 *
 * What it refuses (a {@link ShellMetacharacterError}): every character that would make a shell do
 * more than run one program: `; | & $ ( ) \` < >` and newlines outside quotes, and `$` or backtick
 * inside double quotes (a shell would expand them; passing them on literally would surprise). The
 * caller decides whether a refused command may go to a real shell instead (type `bash` with a
 * `bash:` allowlist entry).
 *
 * Everything else stays literal: globs (`* ? [`), `~`, `{a,b}`, `#` and `VAR=value` prefixes are not
 * expanded, since no shell runs.
 */

/** The characters that end a simple command or make a shell substitute or redirect. */
export const SHELL_METACHARACTERS = ';|&$()`<>';

/** The input is not a well-formed command line (unterminated quote, trailing backslash, no words). */
export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input contains shell syntax that only a shell could honour. */
export class ShellMetacharacterError extends Error {
  /** The refused character (`\n` for a newline). */
  readonly char: string;
  /** Its offset in the input. */
  readonly index: number;
  constructor(char: string, index: number, context: 'unquoted' | 'double-quoted') {
    const shown = char === '\n' ? 'newline' : `"${char}"`;
    super(
      `shell metacharacter ${shown} (${context}, at offset ${index}) is not allowed: fledge-loadtester runs commands ` +
        'without a shell; quote it with single quotes if it is meant literally, or use type "bash" with a "bash:" -allow entry',
    );
    this.name = new.target.name;
    this.char = char;
    this.index = index;
  }
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\r';

/**
 * Splits `input` into words. Throws {@link ShellMetacharacterError} or {@link ShellSyntaxError};
 * never returns an empty array. Leading and trailing white space (newlines included) is ignored.
 */
export function shellWords(input: string): string[] {
  const text = input.trim();
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const end = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  while (i < text.length) {
    const c = text.charAt(i);
    if (isBlank(c)) {
      end();
      i++;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new ShellSyntaxError(`unterminated single quote at offset ${i}`);
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      inWord = true;
      i = readDoubleQuoted(text, i + 1, (s) => (word += s));
    } else if (c === '\\') {
      const next = text.charAt(i + 1);
      if (next === '') throw new ShellSyntaxError(`trailing backslash at offset ${i}`);
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (c === '\n' || SHELL_METACHARACTERS.includes(c)) {
      throw new ShellMetacharacterError(c, i, 'unquoted');
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  end();
  if (words.length === 0) throw new ShellSyntaxError('empty command');
  return words;
}

/** Reads a double-quoted section starting after the opening quote; returns the index after the closing one. */
function readDoubleQuoted(text: string, start: number, append: (s: string) => void): number {
  let i = start;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') return i + 1;
    if (c === '$' || c === '`') throw new ShellMetacharacterError(c, i, 'double-quoted');
    if (c === '\\') {
      const next = text.charAt(i + 1);
      if (next === '\n') {
        i += 2;
        continue;
      }
      if (next === '\\' || next === '"' || next === '$' || next === '`') {
        append(next);
        i += 2;
        continue;
      }
    }
    append(c);
    i++;
  }
  throw new ShellSyntaxError(`unterminated double quote at offset ${start - 1}`);
}

/** Characters that may appear unquoted in {@link quoteWord}'s output. */
const BARE = /^[A-Za-z0-9_@%+=:,./?*#~^!{}[\]-]+$/;

/**
 * One word as a shell would need it written: bare when it holds no blank, quote, backslash or
 * metacharacter, otherwise in single quotes (`'` written as `'\''`). Used for the canonical
 * command line the allowlist matches and logs show.
 */
export function quoteWord(word: string): string {
  if (BARE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The canonical command line of `argv`: words joined by single spaces, each {@link quoteWord}ed.
 * Unambiguous: `shellWords(canonicalCommand(argv))` gives `argv` back.
 */
export function canonicalCommand(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}
