// Summarises a V8 CPU profile (node --cpu-prof, e.g. `npm run bench:relay -- --cpu-prof DIR`, or the gateway's
// through Deno's inspector, `npm run bench:api -- --cpu-prof DIR`): where a
// process's own CPU went, by area (our code per folder, each npm package, Node's internals, GC, idle) and by
// function. Self time only: a function's share excludes what it called.
//   node --import tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
const file = positionals[0];
if (!file) {
  console.error('Usage: node --import tsx bench/cpu-profile.ts FILE.cpuprofile [--top N]');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

/** The area a frame belongs to: an npm package, one of our folders, Node itself, or V8's pseudo-frames. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  // Node's node_modules, or Deno's npm cache (…/npm/<registry>/<package>/<version>/…)
  const pkg = /(?:node_modules|\/npm\/[^/]+)\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith('ext:')) return 'deno internals';
  const ours = /\/(workers|functions|bench|scripts)\/(.+)\/[^/]+$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

const selfMicros = new Map<number, number>();
profile.samples.forEach((nodeId, i) => selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
const idle = [...selfMicros].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
const busy = total - idle;

const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(idle)') continue;
  const area = areaOf(frame);
  areas.set(area, (areas.get(area) ?? 0) + micros);
  const name = `${frame.functionName || '(anonymous)'}  ${frame.url.replace(/^.*\/(node_modules|npm\/[^/]+|workers|functions)\//, '$1/')}:${frame.lineNumber + 1}`;
  functions.set(name, (functions.get(name) ?? 0) + micros);
}

const share = (micros: number) => `${((micros / busy) * 100).toFixed(1).padStart(5)} %`;
const rows = (map: Map<string, number>) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => `  ${share(micros)}  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`)
    .join('\n');

console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s on CPU (shares below are of that)`);
console.log(`\nby area:\n${rows(areas)}`);
console.log(`\nby function (self time):\n${rows(functions)}`);
