# changewatch: the service, its dashboard and the fleet simulator, on Node 20 (docs/docker.md).
#
# Three stages. `build` installs every dependency (vite and the Svelte plugin are dev dependencies)
# and builds the dashboard; `deps` installs the production dependencies only (tsx among them: the
# server runs its TypeScript sources as they are); `runtime` is the image: those dependencies, the
# built dashboard and the sources the server and the simulator run, as the non-root `node` user.
# No npm cache reaches the runtime image: it stays in the `deps` stage.
#
# test/dockerfile.test.ts performs these steps without Docker: keep to the instructions it knows
# (FROM … AS, WORKDIR, ENV, COPY [--from], RUN, USER, EXPOSE, VOLUME, HEALTHCHECK, CMD).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# NODE_ENV is not production here: npm ci would leave out the dev dependencies the build needs.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json vite.config.ts ./
COPY contract ./contract
COPY web ./web
RUN npx vite build --logLevel warn

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production KAFKAJS_NO_PARTITIONER_WARNING=1
COPY package.json package-lock.json tsconfig.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY bin ./bin
COPY contract ./contract
COPY detectors ./detectors
COPY server ./server
COPY tooling ./tooling
COPY --from=build /app/web/dist ./web/dist
# The embedded store (PGlite) and file checkpoints live in /data; with DATABASE_URL set nothing is
# written there. It must exist and belong to `node` before VOLUME, or a fresh volume is root's.
RUN mkdir -p /data && chown node:node /data
ENV CHANGEWATCH_DATA_DIR=/data
VOLUME ["/data"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "tsx", "server/main.ts"]
