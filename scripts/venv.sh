# Sourced by serve.sh and test.sh: make .venv with Tierline and the given extras installed.
# Usage: ensure_venv "embedded" | ensure_venv "test" (extras from pyproject.toml)
ensure_venv() {
  local extras="$1" stamp=".venv/.installed-${1:-base}"
  local py="${PYTHON:-python3}"
  if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then return 0; fi
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv 2>/dev/null; then
      # Debian/Ubuntu ship venv separately; install it when we may.
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        "$py" -m venv .venv
      else
        echo "error: '$py -m venv' failed; install python3-venv (Debian/Ubuntu) and retry" >&2
        return 1
      fi
    fi
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
  touch "$stamp"
}
