# otelbench and target-app in one image, for scale-out runs on Kubernetes
# (deploy/kubernetes/README.md): the load-generator shards run `otelbench run`, the sampler
# sidecar `otelbench sample`, and target-app can serve as the service under test.
#
#   docker build -t otelbench:latest .
#   docker run --rm otelbench:latest validate /opt/otelbench/scenarios/quick.toml
#
# The build context is the repository root; .dockerignore keeps target/, reports/ and .git out
# of it. Without .git, build.rs cannot read the commit, so results.json from this image has an
# empty build commit (the compiler version is still recorded).

# The workspace says rust-version = "1.88", but Cargo.lock's sqlx 0.9.0 needs rustc 1.94 or newer
# (a 1.88 builder stops at "requires rustc 1.94.0"); 1.95 is the toolchain CI builds with.
# Bookworm, like the runtime below, so the binaries find the same glibc.
ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# The whole workspace: benches is a member too, and cargo resolves every member (and finds
# every declared target) before it builds any of them.
COPY Cargo.toml Cargo.lock ./
COPY harness harness
COPY target-app target-app
COPY benches benches
COPY latency latency
RUN cargo build --release --locked -p harness -p target-app

FROM debian:bookworm-slim
# ca-certificates: HTTPS targets and collectors; util-linux: taskset (pinning, when a
# scenario pins). gzip and base64 (coreutils) are already there: the Job prints its
# results.json through them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates util-linux \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /src/target/release/otelbench /src/target/release/target-app /usr/local/bin/
COPY scenarios/ /opt/otelbench/scenarios/
# Not root. Numeric, so a pod's runAsNonRoot can check it; a pod's securityContext can still
# run the sampler sidecar as its service's user.
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/otelbench otelbench
USER 10001
# `run` without --out writes reports/<name>-<timestamp> here.
WORKDIR /home/otelbench
ENTRYPOINT ["otelbench"]
CMD ["--help"]
