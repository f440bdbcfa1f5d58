# The mlforge container image: `docker build -t mlforge .`
#
# Stage 1 builds on Debian 12 exactly as CI does (.ci/run -> make test ->
# make build): scripts/install-deps installs the Debian packages, then the
# same CMake configure and Ninja build. `--build-arg MLFORGE_TEST=1` also
# runs CI's whole `make test` inside the build.
# Stage 2 is a slim Debian 12 with the binary, the runtime libraries it links
# (found from the binary with ldd and dpkg, installed from Debian with apt),
# npm for `mlforge data get`, and a non-root user.

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# The dependency layer first, so a source change does not reinstall it.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*
COPY . .
ARG MLFORGE_TEST=0
RUN make build \
    && if [ "$MLFORGE_TEST" = 1 ]; then make test; fi
# The Debian packages that hold the shared libraries build/mlforge loads.
# ldd prints /lib paths; dpkg knows most files under /usr/lib (merged /usr)
# and some through an alternatives link (libblas.so.3 -> OpenBLAS), so each
# library is looked up as printed, under /usr, and with links resolved.
RUN mkdir /out \
    && strip --strip-debug -o /out/mlforge build/mlforge \
    && for lib in $(ldd build/mlforge | awk '$3 ~ /^\// { print $3 }'); do \
         found=; \
         for candidate in "$lib" "/usr$lib" "$(readlink -f "$lib")"; do \
           if owner=$(dpkg -S "$candidate" 2>/dev/null); then \
             echo "${owner%%:*}"; found=1; break; \
           fi; \
         done; \
         [ -n "$found" ] || { echo "no Debian package holds $lib" >&2; exit 1; }; \
       done > /out/owners \
    && sort -u /out/owners > /out/runtime-packages \
    && echo "runtime packages: $(wc -l < /out/runtime-packages)"

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates npm $(cat /tmp/runtime-packages) \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /out/mlforge /usr/local/bin/mlforge
# uid/gid 10001: the manifests of `mlforge k8s render` run as this user.
RUN groupadd --gid 10001 mlforge \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/mlforge mlforge \
    && mkdir -p /mnt/mlforge /var/lib/mlforge \
    && chown 10001:10001 /mnt/mlforge /var/lib/mlforge
USER 10001:10001
WORKDIR /home/mlforge
ENV MLFORGE_HOME=/home/mlforge/.mlforge
ENTRYPOINT ["mlforge"]
CMD ["--help"]
