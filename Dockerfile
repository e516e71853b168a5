# syntax=docker/dockerfile:1
# The hook's image. Build: docker build -t ghcr.io/ianlewis/memcached-operator:0.1.0 .
#
# Two stages: build with the dev dependencies (TypeScript, esbuild), then copy
# the one bundled file, dist/hook.mjs, into a clean image that runs as a
# non-root user (65532, as the manifests' runAsUser). The bundle holds every
# dependency: the image needs no node_modules.
# Node 24: an LTS line with security releases until April 2028 (Node 20's ended in April 2026). The test
# suite passes on Node 20, 24 and 26 alike (CI runs all three: `npm test`, then `npm run test:image-node`, which
# reads the major version below, and again with NODE_MAJOR=26); engines in package.json stays >= 20.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: the one package with one, esbuild, finds its binary in its platform package without it.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.ts ./scripts/
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=8080
# The hook runs node alone: npm, npx, corepack and yarn (and the packages npm bundles, which image scanners
# report) are removed from its filesystem. The base image's layer still holds them, so the image is no smaller;
# scanners read the filesystem the layers make, as a container sees it.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
# The source map too (NODE_OPTIONS=--enable-source-maps puts src/ lines in stack traces), and the
# licenses of the bundled packages.
COPY --from=build /src/dist/hook.mjs /src/dist/hook.mjs.map /src/dist/hook.mjs.LICENSES.txt ./
# A numeric user, so that Kubernetes can check runAsNonRoot.
USER 65532:65532
EXPOSE 8080
# node itself is PID 1 (no npm, no shell): it gets SIGTERM, and the hook fails
# /readyz, drains and exits 0 inside the pod's grace period.
ENTRYPOINT ["node", "hook.mjs"]
