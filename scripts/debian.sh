# Sourced by the scripts that need Debian packages: `need "PACKAGES" "what for"` installs them when this is a Debian
# machine and we are root (apt-get update only when the first try fails), and otherwise stops with the command to run.
need() {
  local packages=$1 what=$2
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing $packages (Debian) for $what ..."
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # a list of packages
    apt-get install -y -q $packages >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $packages >/dev/null; }
  else
    echo "Debian's $packages is needed for $what: sudo apt-get install $packages" >&2
    exit 1
  fi
}
