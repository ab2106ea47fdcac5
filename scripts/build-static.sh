#!/usr/bin/env bash
# Builds the static release binary of bedrock-entitlements, the way .github/workflows/release.yml
# does, and prints its path on the last line of stdout.
#
#   scripts/build-static.sh [TARGET]
#
# TARGET defaults to the host's musl target when the toolchain has it installed, else the host's
# GNU target linked with `-C target-feature=+crt-static` (glibc's static libraries: libc6-dev).
# The release workflow builds x86_64/aarch64-unknown-linux-musl (the toolchain there installs the
# targets); a machine without the musl target can still prove the binary is static and runs
# alone with the GNU target. Environment:
#   CARGO_TARGET_DIR       where to build (default: target/static, so that a `cargo test` running
#                          this script does not wait for the lock of its own target directory)
#   BUILD_STATIC_PROFILE   cargo profile (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
arch=${host%%-*}
musl="$arch-unknown-linux-musl"
target=${1:-}
if [ -z "$target" ]; then
  if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    target=$musl
  else
    target=$host
  fi
fi
profile=${BUILD_STATIC_PROFILE:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/static}

case "$target" in
  *-musl) flags="" ;;  # musl targets link statically by default
  *-linux-gnu)
    # glibc's static archives must be there; without them the link fails late and obscurely.
    libc=$(cc -print-file-name=libc.a 2>/dev/null || true)
    if [ "${libc#/}" = "$libc" ]; then
      echo "build-static: glibc's static libc.a is missing (install libc6-dev)" >&2
      exit 3
    fi
    flags="-C target-feature=+crt-static" ;;
  *-apple-darwin) flags="" ;;  # macOS has no static libSystem: the binary links it dynamically
  *) echo "build-static: unsupported target $target" >&2; exit 3 ;;
esac

# --target keeps RUSTFLAGS off build scripts and proc macros (they stay host binaries).
RUSTFLAGS="${RUSTFLAGS:-} $flags" cargo build --locked --profile "$profile" \
  --target "$target" --bin bedrock-entitlements >&2
dir=$profile
[ "$profile" = dev ] && dir=debug
echo "$CARGO_TARGET_DIR/$target/$dir/bedrock-entitlements"
