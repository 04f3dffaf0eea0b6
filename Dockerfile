# syntax=docker/dockerfile:1
#
# The hub image: one image, every role. HUB_SERVICES picks what a container runs; with no
# DATABASE_URL / REDIS_URL / NATS_URL it runs everything on the embedded default (data in /app/var).
#
# No TypeScript build: Node 24 runs the .ts sources directly (type stripping). The only build step
# is `schemas/tools/generate.ts` (types and validators from the canonical schemas), which needs dev
# dependencies, so it runs in its own stage and only its output reaches the final image.
#
#   docker build -t b2b-hub .
#   docker run -p 3000:3000 -v hub-var:/app/var b2b-hub

ARG NODE_IMAGE=node:24-bookworm-slim

# --- production dependencies only (the `node@24` devDependency is skipped: the image has Node 24)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- generated schema artifacts (needs devDependencies such as json-schema-to-typescript)
FROM ${NODE_IMAGE} AS generate
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing here needs an install script, and it keeps the `node@24` package from
# fetching a second Node binary. The generator runs on the image's own Node 24, not via npm scripts.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY schemas ./schemas
COPY core ./core
COPY connectors ./connectors
COPY flows ./flows
COPY mappings ./mappings
RUN node schemas/tools/generate.ts

# --- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
# PDF exports set Chinese in a CJK font (5 MB); HUB_PDF_FONT may name another.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
# Application files stay owned by root (read-only for the app); only var/ is writable by `node`.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY schemas ./schemas
COPY --from=generate /app/schemas/generated ./schemas/generated
COPY core ./core
COPY connectors ./connectors
COPY flows ./flows
COPY mappings ./mappings
RUN mkdir -p /app/var && chown node:node /app/var
USER node
VOLUME /app/var
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks the liveness endpoint.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "core/cli/hub.ts", "start"]
