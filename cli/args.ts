import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PullbackError } from '../core/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode, with every complaint turned into a one-line BAD_ARGS error. */
export function parseCommandArgs<T extends Options>(
  argv: string[],
  options: T,
  { positionals = 0, command }: { positionals?: number | [number, number]; command: string },
) {
  const config = {
    args: argv,
    options: { ...options, help: { type: 'boolean', short: 'h' } } as T & {
      help: { type: 'boolean'; short: 'h' };
    },
    strict: true as const,
    allowPositionals: true as const,
  };
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    throw new PullbackError(
      'BAD_ARGS',
      `${command}: ${describeParseError(err, options)} (see --help)`,
    );
  }
  const [min, max] = Array.isArray(positionals) ? positionals : [positionals, positionals];
  if (
    !(parsed.values as { help?: boolean }).help &&
    (parsed.positionals.length < min || parsed.positionals.length > max)
  ) {
    throw new PullbackError(
      'BAD_ARGS',
      `${command}: expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${parsed.positionals.length} (see --help)`,
    );
  }
  return parsed;
}

/** parseArgs' complaint in one short sentence; an unknown option gets the nearest known one. */
function describeParseError(err: unknown, options: Options): string {
  const { code, message } = err as { code?: string; message: string };
  const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(message);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const guess = suggestionFor(unknown[1]!.replace(/^-+/, ''), [...Object.keys(options), 'help']);
    return `unknown option ${unknown[1]}${guess ? ` (did you mean --${guess}?)` : ''}`;
  }
  return message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
}

/** Edit distance (insert, delete, substitute, swap two neighbours). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/** The known word nearest to a mistyped one, if it is near enough to be what was meant. */
export function suggestionFor(word: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = name.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(best.name.length / 3))
    ? best.name
    : undefined;
}

export function parseIntegerOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new PullbackError(
      'BAD_ARGS',
      `${name} must be a whole number from ${min} to ${max}, got "${value}"`,
    );
  }
  return Number(value);
}
