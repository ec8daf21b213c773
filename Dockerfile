# One image for the web and worker processes.
# Build: compile TypeScript with the full dependency set.
FROM node:22-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build emits the type-check server (src/sandbox/typecheck-server.cjs, type-checked JavaScript) with the rest.
RUN npm run build

# Production dependencies only.
FROM node:22-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-slim
# git checks repositories out; bubblewrap, prlimit and setpriv (util-linux) isolate the code they contain.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git bubblewrap util-linux ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production ODAVL_DATA_DIR=/data PORT=3000
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY models ./models
# The package managers repositories declare most often, in the cache the worker gives the sandbox read-only
# (corepack downloads others on demand, before a run, into the same directory; see docs/operations.md).
ENV SANDBOX_TOOLCHAIN_DIR=/var/cache/odavl-toolchain
RUN mkdir -p "$SANDBOX_TOOLCHAIN_DIR/corepack" \
  && cd /tmp \
  && COREPACK_HOME="$SANDBOX_TOOLCHAIN_DIR/corepack" COREPACK_ENABLE_AUTO_PIN=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    corepack install --global pnpm@9 yarn@1 yarn@4 \
  && chmod -R a+rX "$SANDBOX_TOOLCHAIN_DIR"
RUN useradd --system --create-home --uid 10001 odavl && mkdir -p /data && chown odavl /data \
  && chown -R odavl "$SANDBOX_TOOLCHAIN_DIR"
USER odavl
EXPOSE 3000 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/odavl.js", "web"]
