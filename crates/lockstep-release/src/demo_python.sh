#!/usr/bin/env bash
# The repositories of `release-cascade --demo python`: a Python/npm shop publishing to a local
# PyPI server (pypiserver) and a local npm registry (verdaccio). See python-demo.md for how to
# run the two servers.
#
#   python-demo.sh --registry-config DIR
#       writes what the servers need before they start: DIR/registry/verdaccio.yaml and the
#       empty DIR/registry/pypi (pypiserver's package directory); prints nothing
#   python-demo.sh DIR PYPI_URL NPM_URL
#       with both servers answering (PYPI_URL serves /simple/NAME/, NPM_URL is the npm
#       registry), builds under DIR and prints DIR:
#
#   DIR/pycore   Python, hatch-vcs (dynamic = ["version"]), uv.lock, tagged v1.0.0
#   DIR/pyapp    Python, requires pycore>=1.0,<2 from the local index, uv.lock resolving 1.0.0
#   DIR/jscore   npm, package.json "version": "0.0.0-dev", package-lock.json, tagged v1.0.0
#   DIR/jsapp    npm, requires jscore ^1.0.0 from the local registry, lock resolving 1.0.0
#   DIR/origin/NAME.git   a bare `origin` of each, main and the tags pushed
#   DIR/cascade.toml      the four repositories with their smoke and publish commands,
#                         [registries] and [wait]
#
# Every v1.0.0 is published already, by the same publish command the cascade runs, so each
# registry holds pycore, pyapp, jscore and jsapp 1.0.0. Python build dependencies (hatchling,
# hatch-vcs) come from the real PyPI; nothing comes from npmjs.
set -euo pipefail

registry_config() { # DIR
  mkdir -p "$1/registry/pypi" "$1/registry/npm"
  # Our own packages are served from local storage only (no uplink: verdaccio would otherwise
  # merge npmjs's versions of a same-named package into ours), and anyone may publish them
  # (npm still wants a token, any token: see NPM_TOKEN in the repositories' .npmrc).
  # Every other package is proxied from npmjs, read-only.
  cat > "$1/registry/verdaccio.yaml" <<'YAML'
# verdaccio config of the lockstep python demo; the caller passes --listen 127.0.0.1:PORT.
storage: ./npm
auth:
  htpasswd:
    file: ./htpasswd
    max_users: -1
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
packages:
  'jscore':
    access: $all
    publish: $all
    unpublish: $all
  'jsapp':
    access: $all
    publish: $all
    unpublish: $all
  '**':
    access: $all
    publish: $authenticated
    proxy: npmjs
web:
  enable: false
middlewares:
  audit:
    enabled: false
server:
  keepAliveTimeout: 60
log:
  type: stdout
  format: pretty
  level: warn
YAML
}

if [ "${1:-}" = --registry-config ]; then
  [ $# -eq 2 ] || { echo "usage: $0 --registry-config DIR" >&2; exit 2; }
  registry_config "$2"
  exit 0
fi
[ $# -eq 3 ] || { echo "usage: $0 DIR PYPI_URL NPM_URL | --registry-config DIR" >&2; exit 2; }
dest=$1 pypi=${2%/} npm_url=${3%/}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
[ -f "$dest/registry/verdaccio.yaml" ] || registry_config "$dest"
for r in pycore pyapp pyworker jscore jsapp origin cascade.toml; do
  [ ! -e "$dest/$r" ] || { echo "python-demo: $dest/$r exists; DIR must be new" >&2; exit 2; }
done

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=fixture GIT_AUTHOR_EMAIL=fixture@example.com
export GIT_COMMITTER_NAME=fixture GIT_COMMITTER_EMAIL=fixture@example.com
export GIT_AUTHOR_DATE="2026-01-01T12:00:00Z" GIT_COMMITTER_DATE="2026-01-01T12:00:00Z"
# No prompts, no update notices, no audit calls to npmjs.
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export UV_NO_PROGRESS=1
# The registries are on loopback: never through a proxy set for PyPI and npmjs.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

# The publish commands, run by `/bin/sh -c` in the repository once its tag exists, with
# LOCKSTEP_TO_VERSION set. Python: hatch-vcs takes the version from the tag; the build is
# refused unless it produced exactly that version (a dirty tree would give 1.1.1.dev0+g…), and
# `uv publish --index local` uploads to the index's publish-url, skipping files the index
# already has with the same hash. npm: the version is written into package.json for the
# publish only, and put back whether or not the publish succeeded.
py_publish() { # NAME
  printf '%s' "rm -rf dist && uv build --quiet && test -f \"dist/$1-\$LOCKSTEP_TO_VERSION.tar.gz\" && uv publish --quiet --index local --username demo --password demo"
}
npm_publish='npm version "$LOCKSTEP_TO_VERSION" --no-git-tag-version --allow-same-version >/dev/null && NPM_TOKEN=demo npm publish --quiet; s=$?; git checkout -- package.json package-lock.json; exit $s'

new_repo() { # NAME
  mkdir -p "$dest/$1"
  git -C "$dest/$1" init -q -b main
}
release() { # NAME PUBLISH-COMMAND: commit everything, tag v1.0.0, publish 1.0.0
  local repo=$dest/$1
  git -C "$repo" add -A
  git -C "$repo" commit -qm "feat: $1"
  git -C "$repo" tag -a v1.0.0 -m v1.0.0
  (cd "$repo" && LOCKSTEP_FROM_VERSION= LOCKSTEP_TO_VERSION=1.0.0 LOCKSTEP_RELEASE_TAGS=v1.0.0 \
    /bin/sh -c "$2") >&2
  if [ -n "$(git -C "$repo" status --porcelain)" ]; then
    echo "python-demo: publishing $1 left the tree dirty:" >&2
    git -C "$repo" status --short >&2
    exit 1
  fi
}
get() { # URL: the document at URL on stdout; fails unless 200 (no curl on a bare machine)
  python3 -c 'import sys, urllib.request as u
sys.stdout.buffer.write(u.build_opener(u.ProxyHandler({})).open(sys.argv[1], timeout=10).read())' "$1"
}
visible() { # URL PATTERN: wait until the document at URL matches PATTERN (at most 30 s)
  local i
  for i in $(seq 150); do
    if get "$1" 2>/dev/null | grep -q "$2"; then return 0; fi
    sleep 0.2
  done
  echo "python-demo: $1 does not show $2 after 30 s" >&2
  exit 1
}

pyproject() { # DIR NAME DEPENDENCIES-ARRAY
  cat > "$1/pyproject.toml" <<TOML
[project]
name = "$2"
dynamic = ["version"]
description = "lockstep python demo: $2"
requires-python = ">=3.9"
dependencies = [$3]

[build-system]
requires = ["hatchling>=1.26", "hatch-vcs>=0.4"]
build-backend = "hatchling.build"

[tool.hatch.version]
source = "vcs"

# The shop's index, searched first: it has our packages; a package it does not have (404)
# comes from PyPI, the default index.
[[tool.uv.index]]
name = "local"
url = "$pypi/simple/"
publish-url = "$pypi/"
TOML
  printf '.venv/\ndist/\n__pycache__/\n' > "$1/.gitignore"
}

npm_package() { # DIR NAME DEPENDENCIES-OBJECT
  cat > "$1/package.json" <<JSON
{
  "name": "$2",
  "version": "0.0.0-dev",
  "description": "lockstep python demo: $2",
  "main": "index.js",
  "files": ["index.js"],
  "license": "MIT",
  "dependencies": {$3}
}
JSON
  # The token is only needed to publish; \${NPM_TOKEN?} is empty when the variable is unset.
  printf 'registry=%s/\n//%s/:_authToken=${NPM_TOKEN?}\n' "$npm_url" "${npm_url#*://}" > "$1/.npmrc"
  printf 'node_modules/\n*.tgz\n' > "$1/.gitignore"
}

# --- pycore: the Python upstream -------------------------------------------------------------
new_repo pycore
pyproject "$dest/pycore" pycore ''
mkdir -p "$dest/pycore/src/pycore"
cat > "$dest/pycore/src/pycore/__init__.py" <<'PY'
"""The demo's upstream Python package."""


def answer() -> int:
    return 42
PY
(cd "$dest/pycore" && uv lock --quiet) >&2
release pycore "$(py_publish pycore)"

# --- jscore: the npm upstream ----------------------------------------------------------------
new_repo jscore
npm_package "$dest/jscore" jscore ''
printf 'exports.answer = () => 42;\n' > "$dest/jscore/index.js"
(cd "$dest/jscore" && npm install --package-lock-only --ignore-scripts --quiet) >&2
release jscore "$npm_publish"

visible "$pypi/simple/pycore/" 'pycore-1\.0\.0\.tar\.gz'
visible "$npm_url/jscore" '"1\.0\.0"'

# --- pyapp: requires pycore from the local index ---------------------------------------------
new_repo pyapp
pyproject "$dest/pyapp" pyapp '"pycore>=1.0,<2"'
mkdir -p "$dest/pyapp/src/pyapp"
cat > "$dest/pyapp/src/pyapp/__init__.py" <<'PY'
"""The demo's downstream Python package."""
import pycore


def main() -> None:
    assert pycore.answer() == 42
    print("pyapp ok")
PY
(cd "$dest/pyapp" && uv lock --quiet) >&2
release pyapp "$(py_publish pyapp)"

# --- pyworker: a Poetry project (static version, poetry.lock) resolving pycore only from the
# local index (a primary source: PyPI is not consulted); released, not published.
new_repo pyworker
cat > "$dest/pyworker/pyproject.toml" <<TOML
[project]
name = "pyworker"
version = "1.0.0"
description = "lockstep python demo: a Poetry application"
requires-python = ">=3.9"
dependencies = ["pycore>=1.0,<2"]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "local"
url = "$pypi/simple/"
priority = "primary"
TOML
printf '.venv/\n__pycache__/\n' > "$dest/pyworker/.gitignore"
(cd "$dest/pyworker" && poetry lock --quiet --no-interaction) >&2
release pyworker true

# --- jsapp: requires jscore from the local registry ------------------------------------------
new_repo jsapp
npm_package "$dest/jsapp" jsapp '"jscore": "^1.0.0"'
cat > "$dest/jsapp/index.js" <<'JS'
const core = require("jscore");
if (core.answer() !== 42) throw new Error("jscore answered " + core.answer());
console.log("jsapp ok");
JS
(cd "$dest/jsapp" && npm install --package-lock-only --ignore-scripts --quiet) >&2
release jsapp "$npm_publish"

# --- bare origins ----------------------------------------------------------------------------
for r in pycore pyapp pyworker jscore jsapp; do
  git init -q --bare -b main "$dest/origin/$r.git"
  git -C "$dest/$r" remote add origin "$dest/origin/$r.git"
  git -C "$dest/$r" push -q origin main --tags
done

# --- cascade.toml ----------------------------------------------------------------------------
toml_str() { # a TOML basic string
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
{
  printf '# The python demo: Python (uv, Poetry) and npm repositories publishing to local registries.\n\n'
  # pyapp's and jsapp's requirements admit pycore's and jscore's next minor; exact_pins has the
  # cascade rewrite them anyway (>=1.1.0,<2, ^1.1.0), so the dependents are released on the
  # new upstream and their lockfiles are regenerated after the registries show it.
  printf '[cascade]\nexact_pins = true\n\n'
  printf '[registries]\npypi = "%s"\nnpm = "%s"\n\n' "$pypi" "$npm_url"
  printf '[wait]\ntimeout_s = { pypi = 120, npm = 120 }\n'
  for r in pycore pyapp jscore jsapp; do
    case $r in
      pycore) smoke='uv run --locked --quiet python -c "import pycore"' ;;
      pyapp) smoke='uv run --locked --quiet python -c "import pyapp; pyapp.main()"' ;;
      jscore) smoke='node index.js' ;;
      jsapp) smoke='npm ci --ignore-scripts --quiet && node index.js' ;;
    esac
    case $r in
      py*) publish=$(py_publish "$r") ;;
      js*) publish=$npm_publish ;;
    esac
    printf '\n[[repo]]\nname = "%s"\npath = "%s"\nsmoke = %s\npublish = %s\n' \
      "$r" "$r" "$(toml_str "$smoke")" "$(toml_str "$publish")"
  done
  # pyworker publishes nothing: nothing in the cascade resolves it from a registry.
  printf '\n[[repo]]\nname = "pyworker"\npath = "pyworker"\nsmoke = %s\n' \
    "$(toml_str 'poetry check --lock --quiet')"
} > "$dest/cascade.toml"

echo "$dest"
