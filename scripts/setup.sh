#!/usr/bin/env bash
# Sluice's set-up: both README commands call this first. Idempotent, and quick (a few
# seconds) when everything is already in place. On a fresh Debian machine with Node 20,
# as root, reaching only the npm registry and Debian's packages, it installs:
#   - Debian packages: the libraries @confluentinc/kafka-javascript builds against
#     (librdkafka is compiled from source, dynamically linked), and the tools the tests use;
#   - npm dependencies (the versions in package-lock.json);
#   - the compiled CLI in dist/ (tsc, incremental).
# Set SLUICE_SETUP_QUIET=1 to print less.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { [ "${SLUICE_SETUP_QUIET:-0}" = 1 ] || echo "setup: $*" >&2; }

# --- Node ---------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Sluice needs Node 20 or newer; this is $(node --version)" >&2
  exit 1
fi

# --- Debian packages ------------------------------------------------------------
# Kept in one list; each later part of Sluice adds what its tests need.
DEB_PACKAGES=(
  libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev   # librdkafka (confluent client) build
  kcat                                                        # compatibility tests: a C client
  postgresql                                                  # CDC tests: a real Postgres (started as the postgres user)
)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm dependencies -------------------------------------------------------------
# librdkafka builds from source (no prebuilt download here) and links the system libraries.
export CKJS_LINKING=dynamic
stamp=node_modules/.sluice-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies (building librdkafka from source takes about a minute)"
  # Not `npm ci`: the registry reachable here lacks some platform-specific optional packages
  # (e.g. @duckdb/node-bindings-win32-x64), which npm cannot record in the lockfile, and
  # `npm ci` then refuses the lockfile. `npm install --no-save` installs the locked versions
  # all the same and skips optional packages the registry does not have.
  npm install --no-save --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# --- build ------------------------------------------------------------------------
log "building (tsc)"
npx --no-install tsc -p tsconfig.build.json
log "ready"
