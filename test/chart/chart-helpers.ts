/**
 * Shared helpers of the chart tests: the Helm binary (scripts/helm.mjs fetches it once into the
 * git-ignored tools/ and reuses it offline), rendering the chart into parsed objects, validating
 * objects against the Kubernetes and Prometheus Operator schemas of kubernetes-models, and the
 * CRD's OpenAPI schema as an ajv validator.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHART = path.join(ROOT, 'charts', 'raftkv');
export const CRD_FILE = path.join(CHART, 'crds', 'raftclusters.raftkv.io.yaml');
export const FEATURE_RICH_VALUES = path.join(CHART, 'ci', 'feature-rich-values.yaml');
/** The Kubernetes version the chart is rendered for (`.Capabilities.KubeVersion`). */
export const KUBE_VERSION = '1.30.0';
export const MONITORING_API = 'monitoring.coreos.com/v1';

/** A rendered Kubernetes object, as far as the tests look at it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

let helmPath: string | undefined;

/** The Helm 3.17 binary, fetched on first use. */
export function helmBinary(): string {
  helmPath ??= execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'helm.mjs')], {
    encoding: 'utf8',
  }).trim();
  return helmPath;
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with `args` in the repository root; never throws for a non-zero exit. */
export function helm(args: readonly string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  readonly valuesFiles?: readonly string[];
  /** `key=value` pairs for --set. */
  readonly set?: readonly string[];
  /** Pretend the cluster serves monitoring.coreos.com/v1 (PodMonitor, PrometheusRule). */
  readonly isMonitoringApi?: boolean;
  readonly release?: string;
  readonly namespace?: string;
  readonly extraArguments?: readonly string[];
}

/** The arguments of `helm template` for `options`. */
export function templateArguments(options: RenderOptions = {}): string[] {
  return [
    'template',
    options.release ?? 'rkv',
    CHART,
    `--namespace=${options.namespace ?? 'data'}`,
    `--kube-version=${KUBE_VERSION}`,
    ...(options.isMonitoringApi === true ? [`--api-versions=${MONITORING_API}`] : []),
    ...(options.valuesFiles ?? []).map((file) => `--values=${file}`),
    ...(options.set ?? []).map((pair) => `--set=${pair}`),
    ...(options.extraArguments ?? []),
  ];
}

/** `helm template` of the chart, parsed; throws with Helm's message if rendering fails. */
export function renderChart(options: RenderOptions = {}): KubeObject[] {
  const result = helm(templateArguments(options));
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** Every non-empty document of a multi-document YAML stream; throws on a YAML error. */
export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) objects.push(value as KubeObject);
  }
  return objects;
}

/** The one object of `kind` (and `name`, if given) among `objects`; throws if not exactly one. */
export function findObject(
  objects: readonly KubeObject[],
  kind: string,
  name?: string,
): KubeObject {
  const found = objects.filter(
    (object) => object.kind === kind && (name === undefined || object.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(
      `${found.length} objects of kind ${kind}${name === undefined ? '' : ` ${name}`}`,
    );
  }
  return found[0] as KubeObject;
}

/** Reads a nested field by path; undefined if any step is missing. */
export function field(object: unknown, ...steps: readonly (string | number)[]): unknown {
  let current: unknown = object;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

type ModelConstructor = new (data: unknown) => { validate(): void };

/**
 * The kubernetes-models module of an apiVersion and kind: core, built-in groups and the
 * Prometheus Operator's kinds (@kubernetes-models/prometheus-operator).
 */
function modelSpecifier(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return group === ''
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
}

/** Validates `object` against its kind's schema; throws with the schema errors. */
export async function validateWithModels(object: KubeObject): Promise<void> {
  const module = (await import(modelSpecifier(object.apiVersion, object.kind))) as Record<
    string,
    unknown
  >;
  const Model = module[object.kind] as ModelConstructor | undefined;
  if (Model === undefined) throw new Error(`no model for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind} ${object.metadata.name}: ${String(error)}`, { cause: error });
  }
}

/** The CRD file, parsed. */
export function loadCrd(): KubeObject {
  return parse(readFileSync(CRD_FILE, 'utf8')) as KubeObject;
}

/** The CRD's schema of version v1alpha1. */
export function crdSchema(crd: KubeObject = loadCrd()): Record<string, unknown> {
  return field(crd, 'spec', 'versions', 0, 'schema', 'openAPIV3Schema') as Record<string, unknown>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * An ajv validator of RaftCluster objects from the CRD's OpenAPI schema. Not strict: the
 * x-kubernetes-* keywords mean nothing to ajv and are skipped (list-map keys and CEL rules are the
 * API server's). With `isDefaulting`, validation fills in the schema's defaults as the API server
 * does.
 */
export function raftClusterValidator(isDefaulting = false): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: isDefaulting });
  addFormats(ajv);
  const integerFormat = (bits: number) => ({
    type: 'number' as const,
    validate: (value: number) => Number.isInteger(value) && Math.abs(value) < 2 ** (bits - 1),
  });
  ajv.addFormat('int32', integerFormat(32));
  ajv.addFormat('int64', integerFormat(64));
  return ajv.compile(crdSchema());
}

/** The labels every object the chart renders carries (Helm's recommended set). */
export function standardChartLabels(release: string): Record<string, string> {
  return {
    'helm.sh/chart': 'raftkv-0.1.0',
    'app.kubernetes.io/name': 'raftkv',
    'app.kubernetes.io/instance': release,
    'app.kubernetes.io/version': '0.1.0',
    'app.kubernetes.io/part-of': 'raftkv',
    'app.kubernetes.io/managed-by': 'Helm',
  };
}
