# Sourced by the project's scripts: builds Go command-line tools (helm, kubeconform, promtool…)
# with `go install` from the Go module proxy into .tools/go/bin, once per version: a machine that
# already built them reuses them; a fresh machine builds them (minutes for the larger ones).
#
#   source scripts/lib/go-tools.sh
#   ensure_go_tool helm helm.sh/helm/v3/cmd/helm@v3.19.0     # puts .tools/go/bin first on PATH
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
GO_TOOLS_BIN="$ROOT/.tools/go/bin"

ensure_go_tool() {
  local name="$1" pkg="$2"
  local stamp="$GO_TOOLS_BIN/.$name.version"
  export PATH="$GO_TOOLS_BIN:$PATH"
  if [ -x "$GO_TOOLS_BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then return 0; fi
  # Debian's golang-go is too old for these modules: a Go of 1.24 or newer must be on the machine.
  command -v go >/dev/null || { echo "[go-tools] Go 1.24+ is needed to build $name" >&2; return 1; }
  mkdir -p "$GO_TOOLS_BIN"
  echo "[go-tools] building $name ($pkg)" >&2
  # Note: a helm built this way assumes Kubernetes 1.20 when no cluster is given (release builds
  # set it with -ldflags): pass --kube-version to `helm template` (scripts/ci/check-chart.sh does).
  GOBIN="$GO_TOOLS_BIN" GOFLAGS="${GOFLAGS:-} -trimpath" CGO_ENABLED=0 go install "$pkg" >&2
  echo "$pkg" >"$stamp"
}
