#!/usr/bin/env bash
# Packs one release archive: bedrock-entitlements-VERSION-TARGET.tar.gz with the binary, the man
# page, shell completions and the README. The binary must run on this machine (the release
# workflow builds every target on a runner of its own architecture).
#
#   scripts/package.sh VERSION TARGET BINARY OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1 target=$2 binary=$3 out=$4
name="bedrock-entitlements-$version-$target"
stage="$out/$name"
rm -rf "$stage"
mkdir -p "$stage/completions"
cp "$binary" "$stage/bedrock-entitlements"
chmod 0755 "$stage/bedrock-entitlements"
cp README.md "$stage/"
"$stage/bedrock-entitlements" man > "$stage/bedrock-entitlements.1"
for shell in bash zsh fish elvish powershell; do
  "$stage/bedrock-entitlements" completions "$shell" > "$stage/completions/bedrock-entitlements.$shell"
done
# Reproducible archive: sorted names, fixed owner and time where tar supports it.
if tar --version 2>/dev/null | grep -q GNU; then
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -C "$out" -czf "$out/$name.tar.gz" "$name"
else
  tar -C "$out" -czf "$out/$name.tar.gz" "$name"
fi
rm -rf "$stage"
echo "$out/$name.tar.gz"
