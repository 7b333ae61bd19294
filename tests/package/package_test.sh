#!/usr/bin/env bash
# The Debian package (issue 15 item 3), made from the tree the tests already
# built (no second build): scripts/package --from BUILD, then
#   - its control fields: name, version, Depends with etcd-server, etcd-client
#     and the shared libraries; the conffile and the maintainer scripts
#   - its files: the three programs, man pages, the unit, the conffile
#   - an executor that loads no library the Mesos agent does not
#   - a real installation with dpkg into a throwaway root (its own dpkg
#     database; dependencies are this machine's), the programs' --help and
#     --version run from there, the unit checked by systemd-analyze verify
#     when systemd is installed, the flags of the conffile accepted by the
#     scheduler, and a removal that keeps the conffile until a purge
#   tests/package/package_test.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail
source_dir="$1"
build_dir="$2"
version="$3"
work="$(mktemp -d "${TMPDIR:-/tmp}/etcd-mesos-package-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
check_contains() {  # what haystack needle
  if [[ "$2" != *"$3"* ]]; then
    fail "$1 does not contain '$3': $2"
  fi
}

deb="$("$source_dir/scripts/package" --from "$build_dir" --out "$work/out" | tail -n 1)"
[[ -f "$deb" ]] || { echo "FAIL: no package made" >&2; exit 1; }
arch="$(dpkg --print-architecture)"
[[ "$(basename "$deb")" == "etcd-mesos_${version}_${arch}.deb" ]] ||
  fail "package file name $(basename "$deb"), expected etcd-mesos_${version}_${arch}.deb"
echo "packaged $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $((SECONDS - started)) s"

# Control fields.
[[ "$(dpkg-deb -f "$deb" Package)" == etcd-mesos ]] || fail "Package is not etcd-mesos"
[[ "$(dpkg-deb -f "$deb" Version)" == "$version" ]] || fail "Version is not $version"
depends="$(dpkg-deb -f "$deb" Depends)"
for dep in etcd-server etcd-client libc6 libssl3; do
  check_contains Depends "$depends" "$dep"
done
# Compiled in or linked statically (CMakeLists.txt): no Depends on them.
for dep in libzookeeper-mt2 libspdlog libfmt libboost; do
  [[ "$depends" != *"$dep"* ]] || fail "Depends names $dep, which is linked in: $depends"
done
dpkg-deb -e "$deb" "$work/control"
[[ "$(cat "$work/control/conffiles")" == "/etc/default/etcd-mesos" ]] ||
  fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
  [[ -x "$work/control/$script" ]] || fail "no executable $script"
done

# Files.
contents="$(dpkg-deb -c "$deb")"
for path in ./usr/bin/etcd-mesos-scheduler ./usr/bin/etcd-mesos-executor \
  ./usr/bin/etcd-mesos-proxy ./lib/systemd/system/etcd-mesos-scheduler.service \
  ./etc/default/etcd-mesos ./usr/share/man/man1/etcd-mesos-scheduler.1.gz \
  ./usr/share/man/man1/etcd-mesos-executor.1.gz ./usr/share/man/man1/etcd-mesos-proxy.1.gz \
  ./usr/share/doc/etcd-mesos/quickstart.md ./usr/share/doc/etcd-mesos/examples/marathon.json \
  ./usr/share/doc/etcd-mesos/examples/mesos-execute.sh; do
  check_contains "the package's files" "$contents" " $path"
done

# A real installation into a throwaway root with its own dpkg database.
# --force-depends: the root holds no etcd or libraries (they are this
# machine's, where the programs run from); --force-script-chrootless: the root
# has no shell for the maintainer scripts, which see DPKG_ROOT and leave
# this machine's systemd alone.
target="$work/root"
mkdir -p "$target/var/lib/dpkg/info" "$target/var/lib/dpkg/updates"
touch "$target/var/lib/dpkg/status" "$target/var/lib/dpkg/available"
dpkg_root=(dpkg --root="$target" --force-not-root --force-depends --force-script-chrootless
  --log=/dev/null)
"${dpkg_root[@]}" --install "$deb" >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log" >&2; fail "dpkg --install into the throwaway root"; }
status="$(dpkg-query --admindir="$target/var/lib/dpkg" -W -f='${Status} ${Version}' etcd-mesos)"
[[ "$status" == "install ok installed $version" ]] || fail "installed status: $status"
conffiles="$(dpkg-query --admindir="$target/var/lib/dpkg" -W -f='${Conffiles}' etcd-mesos)"
check_contains "registered conffiles" "$conffiles" "/etc/default/etcd-mesos"

# The installed programs run: --version and --help.
for program in etcd-mesos-scheduler etcd-mesos-executor etcd-mesos-proxy; do
  out="$("$target/usr/bin/$program" --version)" || fail "$program --version exited $?"
  [[ "$out" == "$program $version (git "*")" ]] || fail "$program --version printed '$out'"
  [[ "$out" == "$("$build_dir/bin/$program" --version)" ]] ||
    fail "$program --version differs from the built one"
  help="$("$target/usr/bin/$program" --help)" || fail "$program --help exited $?"
  check_contains "$program --help" "$help" "--version"
done
# The executor an agent downloads needs no library but the Mesos agent's
# own (docs/quickstart.md): every library it loads is one that mesos-agent
# loads too (the real Mesos of ../shared, when it is unpacked), from a fixed
# list otherwise; the sanitizer runtimes of an instrumented tree aside.
executor_libs="$(ldd "$target/usr/bin/etcd-mesos-executor" | awk '{print $1}' |
  sed 's|.*/||' | grep -v -E '^(linux-vdso\.so|libasan\.so|libubsan\.so)' | sort -u)"
mesos_home="${ETCDMESOS_MESOS_HOME:-$source_dir/build/mesos/mesos-1.12.0}"
if [[ -x "$mesos_home/bin/mesos-agent" ]]; then
  agent_libs="$(LD_LIBRARY_PATH="$mesos_home/lib" ldd "$mesos_home/bin/mesos-agent" |
    awk '{print $1}' | sed 's|.*/||' | sort -u)"
  agent_what="the mesos-agent of $mesos_home"
else
  agent_libs="$(printf '%s\n' ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libgcc_s.so.1 \
    libstdc++.so.6 libssl.so.3 libcrypto.so.3)"
  agent_what="the libraries every Mesos agent links (no real Mesos unpacked here)"
fi
extra="$(comm -23 <(echo "$executor_libs") <(echo "$agent_libs"))"
[[ -z "$extra" ]] || fail "the executor loads libraries that $agent_what does not: $extra"
[[ "$executor_libs" == *libc.so.6* ]] || fail "ldd of the executor lists no libc: $executor_libs"
echo "the executor loads $(echo "$executor_libs" | wc -l) libraries, all of them ${agent_what}'s"

help="$("$target/usr/bin/etcd-mesos-scheduler" --help)"
check_contains "the scheduler's --help" "$help" "--zk-framework-persist"
man_page="$(gzip -dc "$target/usr/share/man/man1/etcd-mesos-scheduler.1.gz")"
check_contains "the scheduler's man page" "$man_page" "zk\\-framework\\-persist"
check_contains "the scheduler's man page" "$man_page" ".TH ETCD-MESOS-SCHEDULER"

# The unit: restarts always, flags from the conffile.
unit="$(cat "$target/lib/systemd/system/etcd-mesos-scheduler.service")"
for line in "Restart=always" "EnvironmentFile=/etc/default/etcd-mesos" \
  'ExecStart=/usr/bin/etcd-mesos-scheduler $ETCD_MESOS_FLAGS' "WantedBy=multi-user.target"; do
  check_contains "the unit" "$unit" "$line"
done
if command -v systemd-analyze >/dev/null; then
  # The root has no systemd of its own (no sysinit.target): verify a copy
  # whose ExecStart names the root's binary, against this machine's systemd.
  mkdir -p "$work/verify"
  sed "s|^ExecStart=/usr/bin/|ExecStart=$target/usr/bin/|" \
    "$target/lib/systemd/system/etcd-mesos-scheduler.service" \
    >"$work/verify/etcd-mesos-scheduler.service"
  if ! systemd-analyze verify --man=no "$work/verify/etcd-mesos-scheduler.service" \
    >"$work/verify.log" 2>&1 || [[ -s "$work/verify.log" ]]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify"
  fi
else
  echo "systemd-analyze is not installed: the unit's syntax is not verified"
fi

# The conffile's example flags are the scheduler's own: read as systemd reads
# the file, they parse (--version after them skips only the checks that need
# the site: the flags themselves are still parsed).
flags="$(env -i bash -c "set -a; . '$target/etc/default/etcd-mesos'; printf %s \"\$ETCD_MESOS_FLAGS\"")"
check_contains "ETCD_MESOS_FLAGS" "$flags" "-zk-framework-persist="
# shellcheck disable=SC2086  # one argument per flag, as systemd splits $ETCD_MESOS_FLAGS
"$target/usr/bin/etcd-mesos-scheduler" $flags --version >/dev/null ||
  fail "the scheduler refuses the flags of /etc/default/etcd-mesos: $flags"

# Removal keeps the conffile; a purge removes it.
"${dpkg_root[@]}" --remove etcd-mesos >>"$work/dpkg.log" 2>&1 || fail "dpkg --remove"
[[ ! -e "$target/usr/bin/etcd-mesos-scheduler" ]] || fail "the scheduler is left after removal"
[[ -f "$target/etc/default/etcd-mesos" ]] || fail "the conffile went with a removal"
"${dpkg_root[@]}" --purge etcd-mesos >>"$work/dpkg.log" 2>&1 || fail "dpkg --purge"
[[ ! -e "$target/etc/default/etcd-mesos" ]] || fail "the conffile is left after a purge"

echo "package test done in $((SECONDS - started)) s, $failures failure(s)"
((failures == 0))
