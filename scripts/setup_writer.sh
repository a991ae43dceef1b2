#!/usr/bin/env bash
# LibreOffice Writer for the `writer` backend (src/lam_kedro/env/writer): installs the Debian
# packages libreoffice-writer, python3-uno and xvfb with apt-get when any is missing, and says so.
# Idempotent and quick when they are installed (one dpkg-query). Exit status: 0 installed;
# 3 cannot install here (no apt-get, or not root and no password-less sudo), with the reason on
# stderr; anything else: apt-get failed (its own message says why).
set -euo pipefail

PACKAGES=(libreoffice-writer python3-uno xvfb)
missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup_writer: LibreOffice Writer, python3-uno and Xvfb are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup_writer: cannot install ${missing[*]}: no apt-get here (not Debian/Ubuntu); install LibreOffice" \
       "Writer, its Python-UNO bridge and Xvfb with your system's packages; the writer tests skip until then" >&2
  exit 3
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo)
  else
    echo "setup_writer: cannot install ${missing[*]}: not root and no password-less sudo;" \
         "run: sudo apt-get install -y ${missing[*]}" >&2
    exit 3
  fi
fi

echo "setup_writer: installing ${missing[*]} with apt-get (LibreOffice Writer for the writer backend; a few minutes)"
install() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; }
if ! install; then
  echo "setup_writer: refreshing the package lists and trying again"
  "${SUDO[@]}" apt-get update -q
  install
fi
echo "setup_writer: installed ${missing[*]}"
