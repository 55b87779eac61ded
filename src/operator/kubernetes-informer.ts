/**
 * A `ListWatch` (client-node 1.4) that keeps going. 1.4 re-watches after a clean end of the
 * stream and re-lists after 410 Gone, but after any other error it emits `error` and stops; this
 * wrapper restarts it with exponential backoff (1 s doubling to 30 s by default, back to the
 * start once a watch connects), like client-node 2.x does. It also aborts every watch request it
 * started when stopped, including one still connecting, which 1.4's `stop()` misses.
 *
 * Owns its timer and its watch connections; knows nothing of what the objects mean.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';

import type { Logger } from '../common/index.js';
import { describeError } from './kubernetes-errors.js';

/** Delays between restarts after errors. */
export interface RestartBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1000, maxMs: 30_000 };

export type InformerVerb = 'add' | 'update' | 'delete';

export interface RestartingInformerOptions<T extends KubernetesObject> {
  /** For logs, e.g. `raftclusters`. */
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** The watch path, e.g. `/apis/apps/v1/namespaces/NS/statefulsets`. */
  readonly path: string;
  /** Lists the same objects as `path` with the same selector. */
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly logger: Logger;
  readonly backoff?: RestartBackoff;
  readonly onEvent: (verb: InformerVerb, object: T) => void;
}

/**
 * client-node's `Watch` that remembers each request it starts, so that `stop()` can abort them
 * all, and reports when a watch has connected.
 */
class TrackedWatch extends Watch {
  private readonly requests = new Set<AbortController>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly isStopped: () => boolean,
    private readonly onConnected: () => void,
  ) {
    super(kubeConfig);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // `done` may run inside super.watch, before its result is known (the server refused).
    const state: { request: AbortController | undefined; isDone: boolean } = {
      request: undefined,
      isDone: false,
    };
    const request = await super.watch(path, queryParams, callback, (err: unknown) => {
      state.isDone = true;
      if (state.request !== undefined) this.requests.delete(state.request);
      done(err);
    });
    state.request = request;
    if (!state.isDone) {
      if (this.isStopped()) {
        request.abort();
      } else {
        this.requests.add(request);
        this.onConnected();
      }
    }
    return request;
  }

  abortAll(): void {
    for (const request of this.requests) request.abort();
    this.requests.clear();
  }
}

/** A list-watch cache of one resource that restarts itself after errors. */
export class RestartingInformer<T extends KubernetesObject> {
  private readonly options: RestartingInformerOptions<T>;
  private readonly backoff: RestartBackoff;
  private readonly watch: TrackedWatch;
  private readonly listWatch: ListWatch<T>;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private isStopped = true;
  private hasListed = false;
  private resolveStarted: (() => void) | undefined;

  constructor(options: RestartingInformerOptions<T>) {
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_RESTART_BACKOFF;
    this.delayMs = this.backoff.initialMs;
    this.watch = new TrackedWatch(
      options.kubeConfig,
      () => this.isStopped,
      () => {
        this.delayMs = this.backoff.initialMs;
      },
    );
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      this.hasListed = true;
      return result;
    };
    this.listWatch = new ListWatch<T>(options.path, this.watch, list, false, options.labelSelector);
    this.listWatch.on('add', (object) => options.onEvent('add', object));
    this.listWatch.on('update', (object) => options.onEvent('update', object));
    this.listWatch.on('delete', (object) => options.onEvent('delete', object));
    this.listWatch.on('error', (error: unknown) => this.restartLater(error));
  }

  /** Starts listing and watching; resolves once a first list succeeded (or on `stop`). */
  start(): Promise<void> {
    this.isStopped = false;
    const started = new Promise<void>((resolve) => {
      this.resolveStarted = resolve;
    });
    void this.run();
    return started;
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.listWatch.stop();
    this.watch.abortAll();
    this.resolveStarted?.();
  }

  /** Every cached object (of one namespace if given). */
  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  get(name: string, namespace: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  private async run(): Promise<void> {
    if (this.isStopped) return;
    try {
      await this.listWatch.start();
    } catch (error) {
      // Thrown only for a broken KubeConfig (no current cluster); retried like any error.
      this.restartLater(error);
    }
    if (this.hasListed) this.resolveStarted?.();
  }

  private restartLater(error: unknown): void {
    if (this.isStopped || this.timer !== undefined) return;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.options.logger.warn(
      { informer: this.options.name, error: describeError(error), retryInMs: delayMs },
      'list or watch failed; restarting',
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
  }
}
