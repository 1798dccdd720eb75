#!/usr/bin/env bash
# Installs the Debian packages Xiangyin needs (PostgreSQL for tests/production, espeak-ng for
# offline speech, Chromium for browser tests, ffmpeg for voice messages, sox + the AMR codec
# for the fake WeChat's voice recordings…). Only missing packages are installed.
set -euo pipefail
PACKAGES=(
  postgresql
  espeak-ng
  mpg123
  ffmpeg  # an independent loudness and true-peak meter for the mastering tests (ebur128)
  libsndfile1
  chromium
  fonts-noto-cjk
  ffmpeg
  sox
  libopencore-amrnb0
  # reports: WeasyPrint's text layout, and pdffonts/pdftotext for the PDF tests
  libpango-1.0-0
  libpangoft2-1.0-0
  poppler-utils
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "error: missing Debian packages: ${missing[*]} (run as root or install them by hand)" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
