/**
 * Listens for gRPC clients on a TCP socket with Nagle's algorithm off. grpc-js's own `bindAsync`
 * leaves accepted sockets with Nagle on, and a unary answer is several small writes (headers,
 * message, trailers): with Nagle and delayed acknowledgements each call then waits ~40 ms for
 * the client's ACK. Here our own net.Server accepts with `noDelay` and hands each socket to the
 * gRPC server through its public connection injector.
 */
import { createServer, type Server as NetServer } from 'node:net';

import { type Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';

/** A listening socket feeding a gRPC server. */
export interface GrpcListener {
  readonly port: number;
  /** Stops accepting connections; existing ones end with the gRPC server's shutdown. */
  close(): void;
}

/** Starts accepting plaintext gRPC connections on `host:port` (0: any free port). */
export async function listenGrpc(
  server: GrpcServer,
  host: string,
  port: number,
): Promise<GrpcListener> {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const listener: NetServer = createServer({ noDelay: true }, (socket) => {
    injector.injectConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const address = listener.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    port: boundPort,
    close: () => {
      listener.close();
    },
  };
}
