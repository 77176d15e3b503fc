# Sourced by the project's scripts: puts Node 24 first on PATH (installing the `node@24` npm
# package into .tools/ when the machine's Node is older) and installs the npm packages.
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node24() {
  if [ "$(node_major)" -lt 24 ]; then
    if [ ! -x "$ROOT/.tools/node24/node_modules/node/bin/node" ]; then
      command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
      echo "[node] installing Node 24 into .tools/node24 (the machine has $(node --version 2>/dev/null || echo none))"
      npm install --prefix "$ROOT/.tools/node24" --no-save --no-audit --no-fund node@24 >/dev/null
    fi
    export PATH="$ROOT/.tools/node24/node_modules/node/bin:$PATH"
  fi
  [ "$(node_major)" -ge 24 ] || { echo "Node 24 could not be installed" >&2; return 1; }
}

ensure_npm_packages() {
  # Reinstall when the lock file changed since the last install.
  local stamp="$ROOT/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ] || [ "${CI:-}" = true ]; then
    (cd "$ROOT" && npm ci --no-audit --no-fund)
  fi
}
