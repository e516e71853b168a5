# syntax=docker/dockerfile:1
# The hook's image. Build: docker build -t ghcr.io/ianlewis/memcached-operator:0.1.0 .
#
# Three stages: compile TypeScript with the dev dependencies, install the
# production dependencies alone, then copy both into a clean image that runs
# as a non-root user (65532, as the manifests' runAsUser).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
# package.json too: it makes dist/*.js ES modules ("type": "module").
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# A numeric user, so that Kubernetes can check runAsNonRoot.
USER 65532:65532
EXPOSE 8080
# node itself is PID 1 (no npm, no shell): it gets SIGTERM, and main.js fails
# /readyz, drains and exits 0 inside the pod's grace period.
ENTRYPOINT ["node", "dist/main.js"]
