# One image for the six services and their operational scripts; the command picks what runs:
#   docker run <image> node dist/apps/routing/main.js        (token-registry, presence, routing,
#                                                             apns-dispatcher, fcm-dispatcher,
#                                                             delivery-reports)
#   docker run <image> node dist/scripts/create-topics.js    (migrate-registry.js, republish-registry.js,
#                                                             migrate-delivery-reports.js)
#
# Runs as uid:gid 1000:1000 (the base image's `node` user, given as numbers so that Kubernetes can
# verify runAsNonRoot), owns none of its files, and writes nothing outside /tmp: it works with a
# read-only root filesystem and an emptyDir (or tmpfs) on /tmp. The services exit 0 on SIGTERM
# once their consumers committed the batch in flight and left their groups, at the latest after
# SHUTDOWN_TIMEOUT_MS (25 s): give the container a longer grace period (the Helm chart does,
# docker-compose.yml sets stop_grace_period).
#
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) -t offline-push:0.1.0 .
FROM node:24-bookworm-slim AS build
WORKDIR /app
# patches/: fixes applied to installed packages by `patch-package` (npm's postinstall).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="offline-push" \
      org.opencontainers.image.description="Durable, presence-aware offline push platform on Kafka (APNs, FCM): token-registry, presence, routing, apns-dispatcher, fcm-dispatcher, delivery-reports" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
# Root-owned and read-only for the user the services run as.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
USER 1000:1000
EXPOSE 3001 3002 3003 3004 3005 3006
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/routing/main.js"]
