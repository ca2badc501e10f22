// Writes workers/<name>/Dockerfile and its .dockerignore for every entry of workers/images.ts.
//   node --import tsx scripts/worker-images.ts [--check | --dry-run]      (npm run images:write)
// The COPY lines are the folders of the files the entry really loads at run time (its import graph, type-only
// imports left out), so an image changes only when its worker's code does.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { WORKER_IMAGES, type WorkerImage } from '../workers/images.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..');

export interface ImportGraph {
  /** Repository-relative paths of the local files loaded at run time, the entry included. */
  files: string[];
  /** npm packages imported (bare specifiers reduced to the package name); node: builtins left out. */
  packages: string[];
}

/** Specifiers a module loads at run time: static imports and re-exports that are not type-only, and import('x'). */
export function runtimeImports(source: string, fileName: string): string[] {
  const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.importClause?.namedBindings;
      const onlyTypes =
        named &&
        ts.isNamedImports(named) &&
        !node.importClause?.name &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (!onlyTypes) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) specifiers.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return specifiers;
}

const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Follows the entry's relative imports through the repository. */
export function importGraph(entry: string): ImportGraph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    const absolute = path.join(repoRoot, file);
    if (!existsSync(absolute)) throw new Error(`${file} is imported but does not exist`);
    files.add(file);
    for (const specifier of runtimeImports(readFileSync(absolute, 'utf8'), file)) {
      if (specifier.startsWith('.')) pending.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
      else if (!specifier.startsWith('node:')) packages.add(packageName(specifier));
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/** One COPY source per folder holding a loaded file: `<folder>/*.ts` (tests are kept out by the .dockerignore). */
export function copySources(image: WorkerImage): string[] {
  return [...new Set(importGraph(image.entry).files.map((file) => `${path.posix.dirname(file)}/*.ts`))].sort();
}

export const dockerfilePath = (image: WorkerImage) => `workers/${image.name}/Dockerfile`;
export const dockerignorePath = (image: WorkerImage) => `workers/${image.name}/Dockerfile.dockerignore`;

export function renderDockerfile(image: WorkerImage): string {
  const { variable, default: port } = image.port;
  const copies = copySources(image).map((source) => `COPY ${source} ./${path.posix.dirname(source)}/`);
  return `# GENERATED from workers/images.ts by scripts/worker-images.ts: edit those, then \`npm run images:write\`.
# The ${image.name} worker: ${image.description}.
# Node 20, production dependencies only, no build step (tsx runs the TypeScript). Build from the repository root:
#   docker build -f ${dockerfilePath(image)} -t <registry>/microdao-${image.name}:<commit> .
# Configuration comes from the environment; secrets as mounted files (NAME_FILE=/run/secrets/...), read once at
# start and kept in memory only. An invalid configuration stops it at start with every problem listed.
FROM node:20-bookworm-slim

# METRICS_HOST: inside a container the loopback default would keep /metrics from any scraper
ENV NODE_ENV=production \\
    NPM_CONFIG_UPDATE_NOTIFIER=false \\
    METRICS_HOST=0.0.0.0
WORKDIR /app

# Dependencies first: this layer is reused until package-lock.json changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# The folders of the files ${image.entry} loads (its import graph).
${copies.join('\n')}

USER node
# /metrics and /healthz (liveness), /readyz (readiness: NATS and Postgres connected) on ${variable} (${port}).
# The slim image has no curl: node's fetch probes /healthz.
EXPOSE ${port}
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.${variable} || ${port}) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: ${image.onSigterm}.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "${image.entry}"]
`;
}

export function renderDockerignore(image: WorkerImage): string {
  return `# GENERATED from workers/images.ts by scripts/worker-images.ts. Build context filter for ${dockerfilePath(image)}:
# BuildKit reads <Dockerfile>.dockerignore next to the Dockerfile in preference to the context's root
# .dockerignore. Allow-list: only what the image copies; never tests or .env files.
*
!package.json
!package-lock.json
${copySources(image)
  .map((source) => `!${source}`)
  .join('\n')}
**/*.test.ts
**/.env
**/.env.*
**/node_modules
`;
}

/** Every generated file with its expected content. */
export function generatedFiles(images: readonly WorkerImage[] = WORKER_IMAGES): { path: string; content: string }[] {
  return images.flatMap((image) => [
    { path: dockerfilePath(image), content: renderDockerfile(image) },
    { path: dockerignorePath(image), content: renderDockerignore(image) },
  ]);
}

function main(argv: string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`Usage: node --import tsx scripts/worker-images.ts [--check | --dry-run]
  Writes workers/<name>/Dockerfile and Dockerfile.dockerignore for every image in workers/images.ts.
  --check    write nothing; exit 1 naming each file that is missing or differs
  --dry-run  print what would be written, write nothing`);
    return;
  }
  const unknown = argv.filter((arg) => !['--check', '--dry-run'].includes(arg));
  if (unknown.length) {
    console.error(`worker-images: unknown argument ${unknown[0]} (see --help)`);
    process.exit(2);
  }
  const stale: string[] = [];
  for (const file of generatedFiles()) {
    const absolute = path.join(repoRoot, file.path);
    const current = existsSync(absolute) ? readFileSync(absolute, 'utf8') : undefined;
    if (current === file.content) continue;
    stale.push(file.path);
    if (argv.includes('--check')) continue;
    if (argv.includes('--dry-run')) {
      console.log(`worker-images: would write ${file.path}`);
      continue;
    }
    mkdirSync(path.dirname(absolute), { recursive: true });
    writeFileSync(absolute, file.content);
    console.log(`worker-images: wrote ${file.path}`);
  }
  if (argv.includes('--check') && stale.length) {
    console.error(`worker-images: stale or missing: ${stale.join(', ')}; run \`npm run images:write\` and commit the result`);
    process.exit(1);
  }
  if (!stale.length) console.log('worker-images: every Dockerfile is up to date');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main(process.argv.slice(2));
