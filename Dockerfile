# syntax=docker/dockerfile:1
#
# The raftkv image: one image for the member (`serve`, the default command) and the operator
# (its Deployment sets `command: ["node", "dist/operator/main.js"]`),
# docs/decisions/0011-operator-contract.md. test/image/entrypoints.test.ts reproduces the runtime
# stage without Docker and checks this file's final stage.
#
#   docker build -t raftkv:0.1.0 .
#   docker run --rm --hostname raftkv-0 -e RAFTKV_INITIAL_CLUSTER_SIZE=1 -p 2379:2379 raftkv:0.1.0
#
# Base: Node.js 24 ("Krypton", the LTS line) on Debian slim. The major tag follows patch
# releases and Debian security fixes; for reproducible releases pin the digest too
# (node:24-slim@sha256:...) and let a bot bump it. Both stages use the same tag, so the build's
# Node matches the runtime's.

# ---- build: compile TypeScript to dist/ ----------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed to compile: the only dev packages with scripts are esbuild
# (for tsx) and buf (protobuf generation), and the generated code is committed in src/generated.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
RUN npm run build

# ---- runtime ---------------------------------------------------------------------------------
FROM node:24-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="raftkv" \
      org.opencontainers.image.description="Raft-replicated key-value store with the etcd v3 API, and its Kubernetes operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/node:24-slim"

ENV NODE_ENV=production
WORKDIR /app

# Production dependencies only. --ignore-scripts is safe: the one production package with an
# install script is protobufjs (via @grpc/grpc-js), whose postinstall only prints a version-scheme
# warning; @node-rs/crc32 picks its native binary from optional per-platform packages, not a
# script. The npm cache is removed in the same layer so that it never reaches the image.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

COPY --from=build /src/dist/ dist/
# The operator reads deploy/grafana/raftkv.json to create a cluster's dashboard ConfigMap.
COPY deploy/grafana/ deploy/grafana/

# A member's data lives on its volume at /var/lib/raftkv (the StatefulSet sets
# RAFTKV_DATA_DIR=/var/lib/raftkv/data). The directory exists and belongs to the node user so that
# a plain `docker run` without a volume works too.
RUN mkdir -p /var/lib/raftkv && chown node:node /var/lib/raftkv
ENV RAFTKV_DATA_DIR=/var/lib/raftkv/data

# The base image's unprivileged `node` user (uid 1000, gid 1000). Given numerically so that a pod
# with `runAsNonRoot: true` and no `runAsUser` can start: the kubelet cannot verify a user name.
USER 1000:1000

# 2379 client (etcd v3 gRPC), 2380 peer (Raft), 2381 member HTTP (/metrics, /livez, /readyz),
# 8081 operator HTTP (/metrics, /healthz, /readyz).
EXPOSE 2379 2380 2381 8081

# Exec form, no shell and no init wrapper: node itself is PID 1 and receives SIGTERM directly.
# The kernel applies no default action to signals sent to PID 1 (SIGTERM would be ignored), so
# this works only because both entry points install SIGTERM and SIGINT handlers: the member hands
# over leadership and exits 0 within --shutdown-timeout-ms, the operator releases its Lease and
# exits. Neither spawns children, so there are no zombies for an init to reap.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
