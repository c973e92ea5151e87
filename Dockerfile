# Stageline: the compiled server serving the built dashboard (docs/production.md).
#   docker build -t stageline .
#   docker run -p 4040:4040 -v stageline-data:/data stageline            embedded database in /data
#   docker compose up -d                                                  with PostgreSQL 15 (compose.yaml)
# Only npm scripts the test suite or .ci/run exercise are used here (test/system/container.test.ts checks it).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY web ./web
RUN npm run build:server && npm run build:web

FROM node:20-bookworm-slim AS runtime
# pg_dump and pg_restore for `npm run backup` / `npm run restore` against the PostgreSQL 15 server (compose.yaml).
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client-15 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Memory (docs/production.md, "Memory"): two malloc arenas instead of one per thread, and a 4 MB young generation
# instead of 16 MB, as package.json's start:compiled sets them.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4040 DATA_DIR=/data MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# Sources for the operator's scripts, run through tsx: npm run backup, restore, import.
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4040
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4040) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same command as `npm run start:compiled`, without npm in between: SIGTERM reaches the server, which finishes
# requests in flight and closes the database before it exits.
CMD ["node", "--max-semi-space-size=4", "dist/src/server.js"]
