# registry-gate: the admission webhook image. Build: docker build -t registry-gate .
# Without Docker, `npm run image` builds the same filesystem from the same pins (scripts/image/pins.json) into an
# OCI archive; test/dockerfile.test.ts fails when the two drift apart. Five stages: Debian's runtime libraries,
# unpacked without their maintainer scripts (no shell, no package manager in the image); the pinned Node LTS
# binary, integrity-checked; the compiled program; the production dependencies alone; and the image itself, from
# scratch, run as a non-root numeric user.

FROM debian:bookworm-slim AS base
# What `ldd node` needs, and base-files for /etc/os-release and /tmp (1777): scripts/image/pins.json's list.
ARG DEBIAN_PACKAGES="base-files=12.4+deb12u15 gcc-12-base=12.2.0-14+deb12u1 libatomic1=12.2.0-14+deb12u1 libc6=2.36-9+deb12u14 libgcc-s1=12.2.0-14+deb12u1 libstdc++6=12.2.0-14+deb12u1"
WORKDIR /debs
# status.d/<package> holds each package's control fields: where image scanners look for a distroless image's packages.
RUN apt-get update \
 && apt-get download $DEBIAN_PACKAGES \
 && mkdir -p /rootfs/var/lib/dpkg/status.d \
 && for deb in *.deb; do \
      dpkg-deb -x "$deb" /rootfs \
      && dpkg-deb -f "$deb" > "/rootfs/var/lib/dpkg/status.d/$(dpkg-deb -f "$deb" Package)" || exit 1; \
    done
COPY scripts/image/rootfs/ /rootfs/

FROM node:26-bookworm-slim AS node
WORKDIR /src
COPY scripts/lts-node.sh scripts/lts-node.sh
COPY scripts/image/pins.json scripts/image/pins.json
RUN node_bin="$(bash scripts/lts-node.sh)" \
 && install -D -m 0755 "$node_bin" /lts/bin/node \
 && install -D -m 0644 "$(dirname "$(dirname "$node_bin")")/LICENSE" /lts/LICENSE

FROM node:26-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:26-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM scratch
COPY --from=base /rootfs/ /
COPY --from=node /lts/bin/node /usr/local/bin/node
COPY --from=node /lts/LICENSE /usr/local/share/doc/node/LICENSE
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app/package.json /app/package.json
COPY --from=production-dependencies /app/node_modules /app/node_modules
COPY --from=build /src/dist /app/dist
# 65532: the conventional "nonroot" id (scripts/image/rootfs/etc/passwd); numeric so that the kubelet can verify
# runAsNonRoot.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/main.js"]
CMD ["serve"]
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="registry-gate" \
      org.opencontainers.image.source="https://github.com/registry-gate/registry-gate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
