# syntax=docker/dockerfile:1

# Build: the release binary (LTO, see Cargo.toml), with dependencies cached in
# their own layer so that a code change does not rebuild them.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /app
# Build settings too: the allocator's commit policy is set there.
COPY .cargo .cargo
# build.rs links the release binary smaller.
COPY Cargo.toml Cargo.lock build.rs ./
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src/bin migration/src tests \
    && echo 'fn main() {}' > src/bin/main.rs \
    && touch src/lib.rs migration/src/lib.rs tests/mod.rs \
    && cargo build --release --bin backend-cli \
    && rm -rf src migration/src tests
COPY migration/src migration/src
COPY src src
RUN touch src/lib.rs src/bin/main.rs migration/src/lib.rs \
    && cargo build --release --bin backend-cli

# Run: a small image with the binary, its config and its assets, as a
# non-root user. The binary comes last, from one of the two stages below.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app app
WORKDIR /app
COPY config config
COPY assets assets
# Uploads (unless S3_BUCKET is set); the compose files mount a volume here,
# which takes this folder's owner.
RUN mkdir -p /app/storage && chown app /app/storage
USER app
ENV LOCO_ENV=production \
    BINDING=0.0.0.0 \
    PORT=5150 \
    FILE_STORAGE_PATH=/app/storage
EXPOSE 5150
# Server, job workers and scheduler (mail retries, token clean-up) in one process.
CMD ["backend-cli", "start", "--all"]

# `--target prebuilt`: a binary built outside, put at target/image/backend-cli
# (the one file of target/ in the build context), for hosts without the rust
# image (.ci/image). The builder stage is then skipped.
FROM runtime AS prebuilt
COPY target/image/backend-cli /usr/local/bin/backend-cli

# The default: the binary built above.
FROM runtime
COPY --from=builder /app/target/release/backend-cli /usr/local/bin/backend-cli
