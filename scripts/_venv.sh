# Sourced by the other scripts: make sure .venv exists with tuskops installed.
# Usage: ensure_venv EXTRAS   (e.g. "" or "dev")
# Works on a fresh Debian/Ubuntu machine with only Python 3.11+: when the venv module is
# missing (Debian splits it into python3-venv), it is installed with apt-get if we are root.

find_python() {
    for candidate in python3.14 python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "tuskops needs Python 3.11 or newer (none found on PATH)" >&2
    return 1
}

ensure_venv() {
    extras="$1"
    root="$(pwd)"
    venv="$root/.venv"
    py="$(find_python)"
    if [ ! -x "$venv/bin/python" ]; then
        if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
            rm -rf "$venv"
            version="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                echo "Installing python${version}-venv with apt-get ..." >&2
                apt-get update -qq >/dev/null
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${version}-venv" >/dev/null ||
                    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
                "$py" -m venv "$venv"
            else
                echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' and retry" >&2
                return 1
            fi
        fi
    fi
    # Reinstall only when the project metadata changed since the last install.
    spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    stamp="$venv/.tuskops-installed-$extras"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "Installing tuskops into .venv ..." >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
        touch "$stamp"
    fi
}
