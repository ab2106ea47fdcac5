# syntax=docker/dockerfile:1
# The bedrock-entitlements image: FROM scratch, holding only the static binary and CA certificates,
# running as a non-root user.
#
#   docker build -t bedrock-entitlements .                  # compiles from this checkout (musl, static)
#   docker build --build-arg BINARY_FROM=prebuilt .         # packs dist/linux-$TARGETARCH/bedrock-entitlements
#                                                           # (what .github/workflows/release.yml does)
#   docker run --rm -u "$(id -u)" -v "$PWD:/work" -e AWS_REGION -e AWS_ACCESS_KEY_ID ... IMAGE plan
ARG BINARY_FROM=source

# Compile from source: Alpine's Rust targets musl and links statically.
FROM rust:1-alpine AS source
RUN apk add --no-cache musl-dev gcc ca-certificates
WORKDIR /src
COPY . .
ARG BEDROCK_ENTITLEMENTS_GIT_REV=unknown
RUN BEDROCK_ENTITLEMENTS_GIT_REV="$BEDROCK_ENTITLEMENTS_GIT_REV" \
    cargo build --release --locked --bin bedrock-entitlements \
 && cp target/release/bedrock-entitlements /bedrock-entitlements

# Or take the release workflow's static binary for this platform.
FROM alpine:3 AS prebuilt
RUN apk add --no-cache ca-certificates
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/bedrock-entitlements /bedrock-entitlements

FROM ${BINARY_FROM} AS binary
RUN chmod 0755 /bedrock-entitlements && /bedrock-entitlements --version

FROM scratch
COPY --from=binary /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=binary /bedrock-entitlements /usr/local/bin/bedrock-entitlements
# The nobody-like numeric user of distroless images: no passwd file is needed.
USER 65532:65532
WORKDIR /work
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/bedrock-entitlements"]
