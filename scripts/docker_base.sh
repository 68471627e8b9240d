#!/bin/sh
# Make a local stand-in for Jupyter's base image (quay.io/jupyter/base-notebook) from Debian's
# packages and PyPI, for building deploy/Dockerfile where quay.io cannot be reached:
#
#   sudo scripts/docker_base.sh [TAG]          (default TAG: vae-course-base:bookworm)
#   docker build -f deploy/Dockerfile --build-arg BASE=vae-course-base:bookworm ...
#
# It keeps the contract deploy/Dockerfile relies on: a learner user NB_USER (jovyan) with id
# NB_UID (1000), and `pip` and `jupyterhub-singleuser` of one Python 3.11 first on the PATH.
# Needs root, debootstrap (apt-get install debootstrap), docker, and the Debian mirror and PyPI.
set -eu
TAG=${1:-vae-course-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT=$(mktemp -d /tmp/vae-course-base.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOT" "$MIRROR"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"  # PyPI from inside the new root
# Behind a proxy that re-signs TLS, name its CA certificates (EXTRA_CA="a.crt b.crt"): the image
# trusts them too, so pip reaches PyPI during the image build.
for ca in ${EXTRA_CA:-}; do cp "$ca" "$ROOT/usr/local/share/ca-certificates/"; done
chroot "$ROOT" update-ca-certificates >/dev/null
chroot "$ROOT" python3 -m venv /opt/venv
chroot "$ROOT" /opt/venv/bin/pip install --no-cache-dir --quiet \
    --cert /etc/ssl/certs/ca-certificates.crt "jupyterlab>=4" "jupyterhub>=5"
chroot "$ROOT" useradd --create-home --uid 1000 --shell /bin/bash jovyan
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT/etc/resolv.conf"

tar -C "$ROOT" -c . | docker import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NB_USER=jovyan NB_UID=1000 HOME=/home/jovyan' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 1000' --change 'WORKDIR /home/jovyan' \
    --change 'CMD ["jupyterhub-singleuser"]' - "$TAG"
echo "base image: $TAG"
