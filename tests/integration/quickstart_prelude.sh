# Sourced first by Quickstart.EveryCommandWorks (quickstart_test.cpp), in a
# bash whose working directory is the test's: what stands in for sudo, apt
# and systemctl when docs/quickstart.md runs against the local stack.
set -euo pipefail
root="$PWD/root"  # the throwaway root the package is installed into
export PATH="$root/usr/bin:$PATH"
cleanup() {
  # shellcheck disable=SC2046  # one PID per word
  kill $(jobs -p) 2>/dev/null || true
  wait || true
}
trap cleanup EXIT
trap 'exit 143' TERM

sudo() { "$@"; }

# apt install X.deb: every dependency X declares must be installed on this
# machine (where the programs run from); then dpkg installs X into the root
# (its own database; no shell there, so the maintainer scripts run outside
# it, see DPKG_ROOT and leave this machine's systemd alone).
apt() {
  [[ "$1" == install ]] || { echo "test apt: only install" >&2; return 2; }
  shift
  local deb dep installed
  # Installed packages and what they provide, one name a line.
  installed="$(dpkg-query -W -f='${Status} ${Package}, ${Provides}\n' |
    sed -n 's/^install ok installed //p' | tr ',' '\n' | sed 's/ *(.*//; s/^ *//')"
  for deb in "$@"; do
    for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[(|].*//'); do
      grep -qxF "$dep" <<<"$installed" ||
        { echo "test apt: dependency $dep of $deb is not installed here" >&2; return 1; }
    done
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
    touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
    dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless \
      --log=/dev/null --install "$deb"
  done
}

# systemctl enable --now etcd-mesos-scheduler: what the installed unit says,
# its EnvironmentFile read and its ExecStart run with $ETCD_MESOS_FLAGS split
# into words, in the background, logging to scheduler.log.
systemctl() {
  case "$*" in
    "disable --now etcd") echo "test systemctl: no etcd.service runs here" ;;
    "enable --now etcd-mesos-scheduler")
      local unit="$root/lib/systemd/system/etcd-mesos-scheduler.service" env_file exec_start
      env_file="$root$(sed -n 's/^EnvironmentFile=//p' "$unit")"
      exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
      set -a
      # shellcheck disable=SC1090
      . "$env_file"
      set +a
      echo "test systemctl: $exec_start with ETCD_MESOS_FLAGS=$ETCD_MESOS_FLAGS"
      # exec: the job is the scheduler itself, so that cleanup's kill reaches it.
      eval "exec \"\$root\"$exec_start" >scheduler.log 2>&1 &
      ;;
    *) echo "test systemctl: unexpected '$*'" >&2; return 2 ;;
  esac
}
