// What the launcher tells the person who started it: one line per step with its duration, warnings,
// and child output prefixed with the app's name.
const useColor = Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env);
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
const red = paint(31);
const yellow = paint(33);
const green = paint(32);
const PREFIX_COLORS = [36, 35, 34, 32, 33, 96, 95];

export function say(message: string): void {
  process.stdout.write(`dev: ${message}\n`);
}

export function warn(message: string): void {
  process.stdout.write(`dev: ${yellow('warning:')} ${message}\n`);
}

export function fail(message: string): void {
  process.stderr.write(`dev: ${red('error:')} ${message}\n`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Runs one start-up step and prints `name  outcome  (duration)` when it finishes. */
export async function step<T>(name: string, run: () => Promise<T>, describe: (result: T) => string): Promise<T> {
  const started = performance.now();
  const result = await run();
  const took = performance.now() - started;
  process.stdout.write(`dev: ${green('✓')} ${bold(name.padEnd(13))} ${describe(result)} ${dim(`(${seconds(took)})`)}\n`);
  return result;
}

export function skipped(name: string, why: string): void {
  process.stdout.write(`dev: ${dim('-')} ${bold(name.padEnd(13))} ${dim(why)}\n`);
}

let prefixIndex = 0;
const prefixWidth = 13;

/** A writer for one child's output lines: `name | line`, each child in its own colour. */
export function linePrefixer(name: string): (line: string) => void {
  const color = PREFIX_COLORS[prefixIndex++ % PREFIX_COLORS.length] ?? 36;
  const prefix = `${paint(color)(name.padEnd(prefixWidth))} | `;
  return (line) => process.stdout.write(`${prefix}${line}\n`);
}
