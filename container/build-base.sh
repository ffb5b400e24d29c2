#!/usr/bin/env bash
# Builds the container base image locally, with no image registry: Debian's own packages (glibc,
# libstdc++ for Node, tini as PID 1, the CA certificates workerd loads at start) unpacked into an
# empty rootfs and `docker import`ed.
# Usage: container/build-base.sh [tag]   (prints the tag; a no-op when the image already exists)
set -euo pipefail
PACKAGES=(libc6 libgcc-s1 libstdc++6 gcc-12-base tini ca-certificates)
# The tag names the package set and versions, so a Debian point release makes a new base.
if ! apt-cache policy "${PACKAGES[0]}" | grep -q 'Candidate: [0-9]'; then apt-get update -qq; fi
versions=$(for p in "${PACKAGES[@]}"; do apt-cache policy "$p" | awk -v p="$p" '/Candidate:/ { print p "=" $2 }'; done)
tag="${1:-mcp-harness-base:$(printf '%s\n' "$versions" | sha256sum | cut -c1-12)}"
if docker image inspect "$tag" >/dev/null 2>&1; then echo "$tag"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/rootfs"
# apt drops privileges to _apt for downloads: let it write there.
chmod 755 "$work" && chown _apt "$work/debs" 2>/dev/null || true
# apt-get download fetches exactly these .debs from the configured Debian mirror (no dependency solving).
(cd "$work/debs" && apt-get download -qq $(printf '%s\n' "$versions") >&2)
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/rootfs"; done
cd "$work/rootfs"
mkdir -p tmp etc root proc sys dev srv worker
chmod 1777 tmp
# Debian 12 is merged-/usr: the dynamic loader lives under /usr/lib64 but binaries ask for /lib64.
for d in bin sbin lib lib64; do [ -e "$d" ] || [ ! -d "usr/$d" ] || ln -s "usr/$d" "$d"; done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > etc/group
printf 'hosts: files dns\n' > etc/nsswitch.conf
# workerd (1.20261117) refuses to start without system CA certificates, even offline. The package's
# postinst, which builds the bundle, does not run here: build it the same way.
mkdir -p etc/ssl/certs
cat usr/share/ca-certificates/mozilla/*.crt > etc/ssl/certs/ca-certificates.crt
tar --numeric-owner -C "$work/rootfs" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  -m "mcp-harness base: ${PACKAGES[*]} from Debian" - "$tag" >&2
echo "$tag"
