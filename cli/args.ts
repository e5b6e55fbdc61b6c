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
      `${command}: ${(err as Error).message.split('\n')[0]} (see --help)`,
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
