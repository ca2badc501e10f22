// Build once, promote: what was built for a commit is described by a manifest (every artifact's sha256, every
// worker image's digest); staging deploys those artifacts and, once its integration tests pass, signs an
// attestation of the manifest; prod deploys only a manifest that staging attested for the very same commit.
//   npm run release -- manifest --dir DIR [--image NAME=REF@sha256:…]…   writes DIR/manifest.json
//   npm run release -- verify   --dir DIR [--commit SHA] [--passed ENV]    every digest matches; with --passed,
//                                                                          ENV attested this manifest and commit
//   npm run release -- attest   --dir DIR --env ENV                        writes DIR/attestation.<ENV>.json
// The attestation is an HMAC-SHA256 with RELEASE_ATTESTATION_KEY (a secret of the staging and prod GitHub
// environments only): a prod job cannot be talked into deploying what no staging run passed. Exit 0 ok, 1 refused
// (with the reason), 2 bad arguments.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface ReleaseManifest {
  commit: string;
  created_at: string;
  artifacts: Record<string, { sha256: string; bytes: number }>;
  images: Record<string, string>;
}
export interface Attestation {
  environment: string;
  commit: string;
  manifest_sha256: string;
  passed_at: string;
  hmac_sha256: string;
}

export class Refused extends Error {}
class UsageError extends Error {}

const MANIFEST = 'manifest.json';
const IMAGE_REF = /^([a-z0-9-]+)=([a-z0-9./:_-]+@sha256:[0-9a-f]{64})$/;
const attestationFile = (environment: string) => `attestation.${environment}.json`;
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function artifactNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name !== MANIFEST && !name.startsWith('attestation.') && statSync(path.join(dir, name)).isFile())
    .sort();
}

export function writeManifest(dir: string, commit: string, images: Record<string, string>, now = new Date()): ReleaseManifest {
  const names = artifactNames(dir);
  if (!names.length) throw new Refused(`${dir} holds no artifacts; build them first (npm run build:api)`);
  const artifacts = Object.fromEntries(
    names.map((name) => {
      const bytes = readFileSync(path.join(dir, name));
      return [name, { sha256: sha256(bytes), bytes: bytes.length }];
    }),
  );
  const manifest: ReleaseManifest = { commit, created_at: now.toISOString(), artifacts, images };
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function readManifest(dir: string): { manifest: ReleaseManifest; digest: string } {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) throw new Refused(`${file} does not exist: this is not a release built by npm run release -- manifest`);
  const text = readFileSync(file, 'utf8');
  return { manifest: JSON.parse(text) as ReleaseManifest, digest: sha256(text) };
}

function signature(key: string, fields: Omit<Attestation, 'hmac_sha256'>): string {
  const text = [fields.environment, fields.commit, fields.manifest_sha256, fields.passed_at].join('\n');
  return createHmac('sha256', key).update(text).digest('hex');
}

export function attest(dir: string, environment: string, key: string, now = new Date()): Attestation {
  const { manifest, digest } = readManifest(dir);
  verify(dir, {});
  const fields = { environment, commit: manifest.commit, manifest_sha256: digest, passed_at: now.toISOString() };
  const attestation = { ...fields, hmac_sha256: signature(key, fields) };
  writeFileSync(path.join(dir, attestationFile(environment)), `${JSON.stringify(attestation, null, 2)}\n`);
  return attestation;
}

/** Throws Refused with the reason unless every artifact matches the manifest (and, when asked, the commit and a
    valid attestation by `passed`). */
export function verify(dir: string, options: { commit?: string; passed?: string; key?: string }): ReleaseManifest {
  const { manifest, digest } = readManifest(dir);
  if (options.commit && manifest.commit !== options.commit) {
    throw new Refused(`the release was built from ${manifest.commit}, not ${options.commit}: deploy the artifacts built for this commit`);
  }
  const present = artifactNames(dir);
  const listed = Object.keys(manifest.artifacts).sort();
  const extra = present.filter((name) => !listed.includes(name));
  if (extra.length) throw new Refused(`${extra.join(', ')} not in the manifest: the release folder holds files nobody built with it`);
  for (const name of listed) {
    const file = path.join(dir, name);
    if (!existsSync(file)) throw new Refused(`${name} is missing from ${dir}`);
    if (sha256(readFileSync(file)) !== manifest.artifacts[name]!.sha256) {
      throw new Refused(`${name} does not match its sha256 in the manifest: it changed after the build; rebuild the release`);
    }
  }
  if (options.passed) {
    const file = path.join(dir, attestationFile(options.passed));
    if (!existsSync(file)) {
      throw new Refused(
        `no ${options.passed} attestation for ${manifest.commit}: this commit did not pass ${options.passed}; release it there first`,
      );
    }
    if (!options.key) throw new UsageError('RELEASE_ATTESTATION_KEY is not set: it is needed to check the attestation');
    const attestation = JSON.parse(readFileSync(file, 'utf8')) as Attestation;
    const expected = Buffer.from(signature(options.key, attestation), 'hex');
    const given = Buffer.from(String(attestation.hmac_sha256), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Refused(
        `the ${options.passed} attestation's signature is not valid: it was not written by a ${options.passed} run with this key`,
      );
    }
    if (attestation.environment !== options.passed || attestation.commit !== manifest.commit || attestation.manifest_sha256 !== digest) {
      throw new Refused(
        `the ${options.passed} attestation is for another release (${attestation.commit}); this manifest did not pass ${options.passed}`,
      );
    }
  }
  return manifest;
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      image: { type: 'string', multiple: true },
      commit: { type: 'string' },
      passed: { type: 'string' },
      env: { type: 'string' },
    },
  });
  const [command] = positionals;
  if (!values.dir) throw new UsageError('--dir is required: the folder holding the release artifacts');
  const environmentName = /^(dev|staging|prod)$/;
  if (command === 'manifest') {
    const images: Record<string, string> = {};
    for (const spec of values.image ?? []) {
      const match = IMAGE_REF.exec(spec);
      if (!match) throw new UsageError(`--image ${spec}: expected NAME=REGISTRY/IMAGE@sha256:<64 hex>, an image by digest`);
      images[match[1]!] = match[2]!;
    }
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const manifest = writeManifest(values.dir, commit, images);
    console.log(`release: ${Object.keys(manifest.artifacts).length} artifacts and ${Object.keys(images).length} images of ${commit}`);
    return 0;
  }
  if (command === 'attest') {
    if (!values.env || !environmentName.test(values.env)) throw new UsageError('attest needs --env dev, staging or prod');
    const key = process.env.RELEASE_ATTESTATION_KEY;
    if (!key || key.length < 32)
      throw new UsageError('RELEASE_ATTESTATION_KEY is not set (32+ characters, a secret of the staging and prod environments)');
    const attestation = attest(values.dir, values.env, key);
    console.log(`release: ${attestation.commit} passed ${attestation.environment}`);
    return 0;
  }
  if (command === 'verify') {
    if (values.passed && !environmentName.test(values.passed)) throw new UsageError('--passed must be dev, staging or prod');
    const manifest = verify(values.dir, { commit: values.commit, passed: values.passed, key: process.env.RELEASE_ATTESTATION_KEY });
    console.log(`release: ${manifest.commit} verified${values.passed ? `, passed ${values.passed}` : ''}`);
    return 0;
  }
  throw new UsageError('the command must be manifest, attest or verify');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (error) {
    console.error(`release: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof Refused ? 1 : 2);
  }
}
