#!/usr/bin/env bash
# Installs a pinned release of bedrock-entitlements and verifies its checksum: the archive's
# SHA-256 must be the one the release's SHA256SUMS lists and, when BEDROCK_ENTITLEMENTS_SHA256 is
# set, that one too (pinning the bytes, not just the tag). Used by the GitHub Action (action.yml)
# and usable from any CI:
#
#   scripts/install.sh VERSION [INSTALL_DIR]      # e.g. scripts/install.sh v0.1.0 "$HOME/.local/bin"
#
# Environment:
#   BEDROCK_ENTITLEMENTS_REPO         owner/name of the repository that publishes the releases
#                                     (default: the action's own repository, from GITHUB_ACTION_PATH)
#   BEDROCK_ENTITLEMENTS_RELEASE_URL  base URL of the releases (default:
#                                     https://github.com/$BEDROCK_ENTITLEMENTS_REPO/releases/download)
#   BEDROCK_ENTITLEMENTS_SHA256       expected SHA-256 of the archive (optional)
#   BEDROCK_ENTITLEMENTS_TARGET       target triple to install (default: this machine's)
set -euo pipefail

fail() { echo "install: $*" >&2; exit 1; }

version=${1:-}
[ -n "$version" ] || fail "usage: install.sh VERSION [INSTALL_DIR] (a release tag such as v0.1.0)"
dir=${2:-$HOME/.local/bin}

target=${BEDROCK_ENTITLEMENTS_TARGET:-}
if [ -z "$target" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-musl ;;
    Darwin-x86_64) target=x86_64-apple-darwin ;;
    Darwin-arm64) target=aarch64-apple-darwin ;;
    *) fail "no release binary for $(uname -s) $(uname -m): build from source (cargo install --git)" ;;
  esac
fi

base=${BEDROCK_ENTITLEMENTS_RELEASE_URL:-}
if [ -z "$base" ]; then
  repo=${BEDROCK_ENTITLEMENTS_REPO:-}
  if [ -z "$repo" ] && [[ "${GITHUB_ACTION_PATH:-}" == */_actions/*/*/* ]]; then
    rest=${GITHUB_ACTION_PATH#*/_actions/}
    repo=$(echo "$rest" | cut -d/ -f1-2)
  fi
  [ -n "$repo" ] || fail "set BEDROCK_ENTITLEMENTS_REPO to the owner/name that publishes the releases"
  base="https://github.com/$repo/releases/download"
fi

name="bedrock-entitlements-$version-$target"
archive="$name.tar.gz"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/$archive" "$base/$version/$archive" \
  || fail "cannot download $base/$version/$archive"
curl -fsSL --retry 3 -o "$tmp/SHA256SUMS" "$base/$version/SHA256SUMS" \
  || fail "cannot download $base/$version/SHA256SUMS"

if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$tmp/$archive" | cut -d' ' -f1)
else
  actual=$(shasum -a 256 "$tmp/$archive" | cut -d' ' -f1)
fi
listed=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
[ -n "$listed" ] || fail "SHA256SUMS of $version does not list $archive"
[ "$actual" = "$listed" ] || fail "checksum mismatch for $archive: SHA256SUMS says $listed, the download is $actual"
if [ -n "${BEDROCK_ENTITLEMENTS_SHA256:-}" ] && [ "$actual" != "$BEDROCK_ENTITLEMENTS_SHA256" ]; then
  fail "checksum mismatch for $archive: pinned $BEDROCK_ENTITLEMENTS_SHA256, the download is $actual"
fi

tar -xzf "$tmp/$archive" -C "$tmp"
mkdir -p "$dir"
cp "$tmp/$name/bedrock-entitlements" "$dir/bedrock-entitlements"
chmod 0755 "$dir/bedrock-entitlements"
echo "install: $archive verified (sha256 $actual), installed to $dir/bedrock-entitlements" >&2
"$dir/bedrock-entitlements" --version
