#!/usr/bin/env bash
# Builds the release-cascade demo into $1: real git repositories shaped like the brief's DAG.
#
#   manifest ← urn-authority ← runtime ← documentation
#        ↖________________ ↙   ↖ ecosystem ↗      runtime ← release-healer
#   plus console (package.json, pins runtime) and sdk-python (pyproject.toml, pins manifest).
#
# Cargo crates pin each other by git tag on file:// URLs and commit their Cargo.lock; every
# repository starts at 1.0.0 with tag v1.0.0, and the root gets one `feat:` commit to release.
set -euo pipefail
dest=${1:?usage: demo.sh DIR}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Demo Maintainer" GIT_AUTHOR_EMAIL="maintainer@example.com"
export GIT_COMMITTER_NAME="Demo Maintainer" GIT_COMMITTER_EMAIL="maintainer@example.com"
export GIT_AUTHOR_DATE="2026-01-01T12:00:00Z" GIT_COMMITTER_DATE="2026-01-01T12:00:00Z"

init() { # name
  mkdir -p "$dest/$1"
  git init -q -b main "$dest/$1"
  git -C "$dest/$1" config user.name "Demo Maintainer"
  git -C "$dest/$1" config user.email "maintainer@example.com"
  printf 'target/\nnode_modules/\n.venv/\n' > "$dest/$1/.gitignore"
  cat > "$dest/$1/smoke.sh" <<'SH'
#!/bin/sh
# Smoke test: build the package against the pinned upstreams.
if [ -n "${LOCKSTEP_DEMO_FAIL_AT:-}" ] && [ "$LOCKSTEP_DEMO_FAIL_AT" = "${LOCKSTEP_CASCADE_REPO:-}" ]; then
  echo "smoke: $LOCKSTEP_CASCADE_REPO fails on purpose (--fail-at $LOCKSTEP_DEMO_FAIL_AT)"
  exit 1
fi
if [ -f Cargo.toml ]; then
  cargo build -q --offline && echo "smoke: $LOCKSTEP_CASCADE_REPO builds against its new pins"
else
  echo "smoke: $LOCKSTEP_CASCADE_REPO manifest checked"
fi
SH
}

crate() { # name deps...
  local name=$1; shift
  local ident=${name//-/_}
  init "$name"
  mkdir -p "$dest/$name/src"
  {
    printf '[package]\nname = "%s"\nversion = "1.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n' "$name"
    for d in "$@"; do
      printf '%s = { git = "file://%s/%s", tag = "v1.0.0" }\n' "$d" "$dest" "$d"
    done
  } > "$dest/$name/Cargo.toml"
  {
    printf '//! %s: part of the demo platform.\n\n' "$name"
    printf '/// The name this crate registers under.\npub fn name() -> &'"'"'static str {\n    "%s"\n}\n\n' "$name"
    printf '/// Everything this crate is built on.\npub fn stack() -> Vec<&'"'"'static str> {\n    let mut v = vec![name()];\n' 
    for d in "$@"; do printf '    v.extend(%s::stack());\n' "${d//-/_}"; done
    printf '    v\n}\n'
  } > "$dest/$name/src/lib.rs"
  (cd "$dest/$name" && cargo generate-lockfile -q --offline 2>/dev/null || cargo generate-lockfile -q)
  git -C "$dest/$name" add -A
  git -C "$dest/$name" commit -q -m "feat: $name 1.0.0"
  git -C "$dest/$name" tag -a v1.0.0 -m "$name 1.0.0"
  : "$ident"
}

crate manifest
crate urn-authority manifest
crate runtime manifest urn-authority
crate ecosystem manifest urn-authority
crate documentation runtime ecosystem
crate release-healer runtime

init console
cat > "$dest/console/package.json" <<JSON
{
  "name": "console",
  "version": "1.0.0",
  "private": true,
  "description": "Operator console for the runtime",
  "dependencies": {
    "runtime": "git+file://$dest/runtime#v1.0.0"
  }
}
JSON
git -C "$dest/console" add -A && git -C "$dest/console" commit -q -m "feat: console 1.0.0" && git -C "$dest/console" tag -a v1.0.0 -m "console 1.0.0"

init sdk-python
cat > "$dest/sdk-python/pyproject.toml" <<TOML
[project]
name = "sdk-python"
version = "1.0.0"
description = "Python SDK for the platform manifest"
requires-python = ">=3.9"
dependencies = [
    "manifest @ git+file://$dest/manifest@v1.0.0",
]
TOML
git -C "$dest/sdk-python" add -A && git -C "$dest/sdk-python" commit -q -m "feat: sdk-python 1.0.0" && git -C "$dest/sdk-python" tag -a v1.0.0 -m "sdk-python 1.0.0"

# The change to release: a new feature in the root.
cat >> "$dest/manifest/src/lib.rs" <<'RUST'

/// The schema version manifests are written in.
pub fn schema_version() -> u32 {
    2
}
RUST
GIT_AUTHOR_DATE="2026-01-02T12:00:00Z" GIT_COMMITTER_DATE="2026-01-02T12:00:00Z" \
  git -C "$dest/manifest" commit -q -am "feat: schema_version() for manifest consumers"

cat > "$dest/cascade.toml" <<TOML
# The demo cascade: every repository, upstream first. Packages and edges are discovered
# from each repository's own manifests. The crates are `publish = false` and the console
# `"private": true` (pinned by git tag, never published): `release_unpublished` releases them
# all the same.
[[repo]]
name = "manifest"
path = "manifest"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "urn-authority"
path = "urn-authority"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "runtime"
path = "runtime"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "ecosystem"
path = "ecosystem"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "documentation"
path = "documentation"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "release-healer"
path = "release-healer"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "console"
path = "console"
smoke = "sh smoke.sh"
release_unpublished = true

[[repo]]
name = "sdk-python"
path = "sdk-python"
smoke = "sh smoke.sh"
TOML
echo "$dest"
