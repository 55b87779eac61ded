/**
 * A gRPC server for unary methods written directly on `node:http2`, serving the client API.
 * grpc-js spends about as much CPU answering a call as the rest of the node spends committing
 * it (docs/benchmarks.md); every method of the etcd services raftkv serves is unary, so this
 * file handles exactly that: one request message in, one response message or a status out.
 * It reuses the services' grpc-js handlers and their generated service definitions unchanged.
 *
 * Owns: HTTP/2 sessions of client connections (Nagle off), gRPC framing (uncompressed messages
 * only), request size limit, metadata, status trailers, UNIMPLEMENTED for unknown methods.
 * Must not: know any service's meaning.
 */
import {
  constants as http2Constants,
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';

import { Metadata, type ServiceDefinition, status as GrpcStatus } from '@grpc/grpc-js';

import type { Logger } from '../common/index.js';

/** A grpc-js style unary handler, as the services build them. */
type UnaryHandler = (
  call: { request: unknown; metadata: Metadata },
  callback: (error: { code: number; details: string } | null, response?: unknown) => void,
) => void;

interface Method {
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  readonly handler: UnaryHandler;
}

/** Options of {@link UnaryGrpcServer.listen}. */
export interface UnaryGrpcServerOptions {
  readonly host: string;
  readonly port: number;
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
  readonly receiveMessageBytesMax: number;
  /** Concurrent calls per connection (HTTP/2 streams). */
  readonly concurrentStreamsMax: number;
  readonly logger: Logger;
}

const FRAME_HEADER_BYTES = 5;
const RESERVED_HEADERS = new Set([
  'content-type',
  'te',
  'user-agent',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'accept-encoding',
]);

/** A unary-only gRPC server over plaintext HTTP/2. */
export class UnaryGrpcServer {
  private readonly methods = new Map<string, Method>();
  private netServer: NetServer | undefined;
  private http2Server: Http2Server | undefined;
  private readonly sessions = new Set<ServerHttp2Session>();
  /** Streams open now; shutdown waits for them to finish (answers and trailers sent). */
  private openStreams = 0;
  private onIdle: (() => void) | undefined;
  private isClosing = false;

  /** Adds every method of a generated service definition with the service's handlers. */
  addService(definition: ServiceDefinition, implementation: object): void {
    for (const [name, method] of Object.entries(definition)) {
      if (method.requestStream || method.responseStream) {
        throw new Error(`${method.path} is streaming; only unary methods are served here`);
      }
      const handler = (implementation as Record<string, UnaryHandler | undefined>)[name];
      if (handler === undefined) throw new Error(`no handler for ${method.path}`);
      this.methods.set(method.path, {
        deserialize: method.requestDeserialize as (bytes: Buffer) => unknown,
        serialize: method.responseSerialize as (value: unknown) => Buffer,
        handler,
      });
    }
  }

  /** Starts listening; resolves with the bound port. */
  async listen(options: UnaryGrpcServerOptions): Promise<number> {
    const http2Server = createHttp2Server({
      settings: { maxConcurrentStreams: options.concurrentStreamsMax },
      maxSessionMemory: 64,
    });
    http2Server.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', () => undefined);
    });
    http2Server.on('stream', (stream, headers) => {
      this.openStreams++;
      stream.once('close', () => {
        this.openStreams--;
        if (this.openStreams === 0) this.onIdle?.();
      });
      this.handleStream(stream, headers, options);
    });
    const netServer = createNetServer({ noDelay: true }, (socket) => {
      if (this.isClosing) {
        socket.destroy();
        return;
      }
      http2Server.emit('connection', socket);
    });
    await new Promise<void>((resolve, reject) => {
      netServer.once('error', reject);
      netServer.listen(options.port, options.host, () => {
        netServer.off('error', reject);
        resolve();
      });
    });
    this.netServer = netServer;
    this.http2Server = http2Server;
    const address = netServer.address();
    return typeof address === 'object' && address !== null ? address.port : options.port;
  }

  /**
   * Stops accepting connections and calls, lets calls in flight finish for up to `waitMs`,
   * then closes every session.
   */
  async close(waitMs: number): Promise<void> {
    this.isClosing = true;
    this.netServer?.close();
    for (const session of this.sessions) session.close();
    if (this.openStreams > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const session of this.sessions) session.destroy();
    this.http2Server?.close();
  }

  private handleStream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    options: UnaryGrpcServerOptions,
  ): void {
    stream.on('error', () => undefined);
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) {
      respondStatus(
        stream,
        GrpcStatus.UNIMPLEMENTED,
        `The server does not implement the method ${path}`,
      );
      return;
    }
    if (this.isClosing) {
      respondStatus(stream, GrpcStatus.UNAVAILABLE, 'etcdserver: server stopped');
      return;
    }
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      respondStatus(
        stream,
        GrpcStatus.UNIMPLEMENTED,
        `raftkv: message encoding '${String(encoding)}' is not supported`,
      );
      return;
    }
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    let isRefused = false;
    stream.on('data', (chunk: Buffer) => {
      if (isRefused) return;
      receivedBytes += chunk.length;
      if (receivedBytes > options.receiveMessageBytesMax + FRAME_HEADER_BYTES) {
        isRefused = true;
        respondStatus(
          stream,
          GrpcStatus.RESOURCE_EXHAUSTED,
          `Received message larger than max (${receivedBytes} vs. ${options.receiveMessageBytesMax})`,
        );
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (isRefused) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      this.runCall(stream, headers, method, body);
    });
  }

  private runCall(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    method: Method,
    body: Buffer,
  ): void {
    if (body.length < FRAME_HEADER_BYTES || body.readUInt8(0) !== 0) {
      const reason =
        body.length < FRAME_HEADER_BYTES ? 'no request message' : 'a compressed message';
      respondStatus(
        stream,
        GrpcStatus.INTERNAL,
        `raftkv: ${reason} (unary calls take one uncompressed message)`,
      );
      return;
    }
    const length = body.readUInt32BE(1);
    if (body.length !== FRAME_HEADER_BYTES + length) {
      respondStatus(
        stream,
        GrpcStatus.INTERNAL,
        'raftkv: the request must hold exactly one message',
      );
      return;
    }
    let request: unknown;
    try {
      request = method.deserialize(body.subarray(FRAME_HEADER_BYTES));
    } catch (error) {
      respondStatus(
        stream,
        GrpcStatus.INTERNAL,
        `raftkv: request could not be decoded: ${String(error)}`,
      );
      return;
    }
    method.handler({ request, metadata: metadataOf(headers) }, (error, response) => {
      if (stream.destroyed || stream.closed) return;
      if (error !== null) {
        respondStatus(stream, error.code, error.details);
        return;
      }
      let message: Buffer;
      try {
        message = method.serialize(response);
      } catch (serializeError) {
        respondStatus(
          stream,
          GrpcStatus.INTERNAL,
          `raftkv: response could not be encoded: ${String(serializeError)}`,
        );
        return;
      }
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, FRAME_HEADER_BYTES);
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' },
        { waitForTrailers: true },
      );
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame);
    });
  }
}

/** A trailers-only answer: the status travels in the only HEADERS frame. */
function respondStatus(stream: ServerHttp2Stream, code: number, details: string): void {
  if (stream.headersSent || stream.destroyed || stream.closed) {
    stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': percentEncode(details),
    },
    { endStream: true },
  );
}

/**
 * The gRPC spec's encoding of `grpc-message`: printable ASCII stays as it is, except `%`; every
 * other byte of the UTF-8 text becomes `%XX`. (Clients decode only what the spec encodes.)
 */
function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    encoded +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** The request's custom metadata (what grpc-js would hand a handler). */
function metadataOf(headers: IncomingHttpHeaders): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(':') || RESERVED_HEADERS.has(key) || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (key.endsWith('-bin')) metadata.add(key, Buffer.from(item, 'base64'));
      else metadata.add(key, item);
    }
  }
  return metadata;
}
