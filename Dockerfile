# syntax=docker/dockerfile:1

# One image for every Danube process (WORKDIR /app); pick one with the command:
#   node dist/apps/api/src/main.js               REST API + gRPC JobService (the default)
#   node dist/apps/executor/src/main.js          an executor
#   node dist/apps/output-collector/src/main.js  the sidecar in each attempt's Kubernetes Job
#   node dist/apps/cli/src/migrate.js            apply pending migrations to DATABASE_URL
#   node bin/danube.js --url http://api:3000 topics   the CLI
# deploy/k8s runs it as danube:0.1.0 (docker build -t danube:0.1.0 .).

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install everything, compile, then drop the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Install scripts are skipped: the only production packages with one are the embedded
# Postgres binaries (not used in containers: DATABASE_URL is always set) and telemetry.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY examples ./examples
RUN npm run build \
 && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: compiled code, production node_modules and the migrations ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# The migration runner finds the project root by walking up for a folder holding both
# migrations/ and package.json, so both live in /app beside dist/. Files stay root-owned
# (read-only for the app); jobs run under $TMPDIR (/tmp/danube-work), writable by node,
# and artifacts go to ARTIFACT_DIR (a volume in docker-compose.yml).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# The JobService (gRPC) and the SDK load their protocol from here at start.
COPY proto ./proto
# The CLI: docker run danube node bin/danube.js --url http://api:3000 topics
COPY bin ./bin

# A named volume mounted here starts with this folder's owner, so the API can write it.
RUN mkdir -p /var/lib/danube/artifacts && chown node:node /var/lib/danube/artifacts

# The official Node images ship an unprivileged "node" user (uid 1000). Numeric, so that
# Kubernetes' runAsNonRoot can check it without a runAsUser.
USER 1000:1000

EXPOSE 3000 9000
CMD ["node", "dist/apps/api/src/main.js"]
